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
});

describe('isUuid', () => {
  it('rejects malformed values', () => {
    expect(isUuid('not-a-uuid')).toBe(false);
    expect(isUuid('00000000-0000-0000-0000-000000000000')).toBe(false);
    expect(isUuid("1' OR '1'='1")).toBe(false);
  });
});
