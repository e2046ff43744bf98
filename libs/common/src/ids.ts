import { randomFillSync } from 'node:crypto';

let lastMillis = 0;
let sequence = 0;

// Random bytes are drawn from the CSPRNG a few kilobytes at a time: one system call per 256 ids
// instead of two per id (every request gets an id, so this is on the hot path).
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** Where the next `size` random bytes start in the pool (refilled when it runs short). */
function takeRandom(size: number): number {
  if (poolOffset + size > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += size;
  return at;
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** The id's text is written here, then read out as one string. */
const text = Buffer.alloc(36);

/**
 * A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits.
 * Time-ordered ids keep B-tree inserts local and make ids sortable by creation.
 * Within one millisecond a 12-bit counter in rand_a keeps ids from one process monotonic.
 * Every request gets one, so it is built in place (the bytes in the random pool, the text in a
 * reused buffer): one string is allocated, not a buffer, its hex and five slices.
 */
export function newId(now: number = Date.now()): string {
  if (now === lastMillis) {
    sequence = (sequence + 1) & 0x0fff;
  } else {
    lastMillis = now;
    sequence = pool.readUInt16BE(takeRandom(2)) & 0x07ff;
  }
  const at = takeRandom(16);
  pool.writeUIntBE(now, at, 6);
  pool[at + 6] = 0x70 | (sequence >> 8);
  pool[at + 7] = sequence & 0xff;
  pool[at + 8] = 0x80 | ((pool[at + 8] ?? 0) & 0x3f);
  let out = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[out++] = 0x2d;
    const byte = pool[at + i] ?? 0;
    text[out++] = HEX_DIGITS[byte >> 4] ?? 0;
    text[out++] = HEX_DIGITS[byte & 0x0f] ?? 0;
  }
  return text.toString('latin1', 0, 36);
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
