import { randomFillSync } from 'node:crypto';

let lastMillis = 0;
let sequence = 0;

// Random bytes are drawn from the CSPRNG a few kilobytes at a time: one system call per 256 ids
// instead of two per id (every request gets an id, so this is on the hot path).
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

function takeRandom(size: number): Buffer {
  if (poolOffset + size > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + size));
  poolOffset += size;
  return bytes;
}

/**
 * A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits.
 * Time-ordered ids keep B-tree inserts local and make ids sortable by creation.
 * Within one millisecond a 12-bit counter in rand_a keeps ids from one process monotonic.
 */
export function newId(now: number = Date.now()): string {
  if (now === lastMillis) {
    sequence = (sequence + 1) & 0x0fff;
  } else {
    lastMillis = now;
    sequence = takeRandom(2).readUInt16BE(0) & 0x07ff;
  }
  const bytes = takeRandom(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
