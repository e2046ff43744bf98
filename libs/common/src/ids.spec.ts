import { isUuid, newId } from './ids';

describe('newId', () => {
  it('produces RFC 9562 version 7 UUIDs', () => {
    const id = newId();
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
  });

  it('encodes the timestamp in the first 48 bits', () => {
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const id = newId(at);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('is strictly increasing within one millisecond and unique over many calls', () => {
    const at = Date.now() + 10_000;
    const ids = Array.from({ length: 1000 }, () => newId(at));
    expect(new Set(ids).size).toBe(ids.length);
    const sorted = [...ids].sort();
    expect(sorted.slice(0, 100)).toEqual(ids.slice(0, 100));
  });

  it('stays well formed and distinct across refills of the random pool', () => {
    const start = Date.now() + 20_000;
    // 18 bytes an id (a new millisecond each) from a 4 KiB pool: about 13 refills.
    const ids = Array.from({ length: 3000 }, (_, i) => newId(start + i * 7));
    expect(ids.every((id) => isUuid(id) && id[14] === '7' && /^[89ab]$/.test(id[19] ?? ''))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // The random tail varies from id to id.
    expect(new Set(ids.map((id) => id.slice(24))).size).toBeGreaterThan(2990);
    ids.forEach((id, i) => expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(start + i * 7));
  });
});

describe('isUuid', () => {
  it('rejects malformed values', () => {
    expect(isUuid('not-a-uuid')).toBe(false);
    expect(isUuid('00000000-0000-0000-0000-000000000000')).toBe(false);
    expect(isUuid("1' OR '1'='1")).toBe(false);
  });
});
