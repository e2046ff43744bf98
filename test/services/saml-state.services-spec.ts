import { RedisSamlStateStore } from '@app/sso';
import { readServicesEnv } from '../support/services-env';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** The SAML state on the real Redis: what replicas share (single-use request ids, assertion replay). */
describe('RedisSamlStateStore', () => {
  const url = readServicesEnv()?.redisUrl ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `test:saml:${randomUUID()}:`;
  let redis: Redis;
  let other: Redis;

  beforeAll(() => {
    redis = new Redis(url, { maxRetriesPerRequest: 1 });
    other = new Redis(url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await Promise.all([redis.quit(), other.quit()]);
  });

  it('saves a request with its ttl and gives it back once, to whichever replica asks first', async () => {
    const a = new RedisSamlStateStore(redis, prefix);
    const b = new RedisSamlStateStore(other, prefix);
    await a.saveRequest('_r1', 'connection-a', 60_000);
    const ttl = await redis.pttl(`${prefix}request:_r1`);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const taken = await Promise.all([a.takeRequest('_r1'), b.takeRequest('_r1')]);
    expect(taken.filter((value) => value === 'connection-a')).toHaveLength(1);
    expect(taken.filter((value) => value === undefined)).toHaveLength(1);
    await expect(a.takeRequest('_r1')).resolves.toBeUndefined();
  });

  it('never overwrites a saved request id', async () => {
    const store = new RedisSamlStateStore(redis, prefix);
    await store.saveRequest('_r2', 'connection-a', 60_000);
    await expect(store.saveRequest('_r2', 'connection-b', 60_000)).rejects.toThrow();
    await expect(store.takeRequest('_r2')).resolves.toBe('connection-a');
  });

  it('lets a request expire', async () => {
    const store = new RedisSamlStateStore(redis, prefix);
    await store.saveRequest('_r3', 'connection-a', 50);
    await sleep(120);
    await expect(store.takeRequest('_r3')).resolves.toBeUndefined();
  });

  it('accepts an assertion id once across replicas, until its ttl', async () => {
    const a = new RedisSamlStateStore(redis, prefix);
    const b = new RedisSamlStateStore(other, prefix);
    // A long ttl for the "once" half: a loaded machine must not let it lapse between the calls.
    const firsts = await Promise.all([a.firstUse('c:a1', 60_000), b.firstUse('c:a1', 60_000)]);
    expect(firsts.sort()).toEqual([false, true]);
    await expect(a.firstUse('c:a1', 60_000)).resolves.toBe(false);
    await expect(b.firstUse('c:a1', 60_000)).resolves.toBe(false);
    const ttl = await redis.pttl(`${prefix}assertion:c:a1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // A short ttl for the "until" half: waiting longer than asked only makes it more expired.
    await expect(a.firstUse('c:a2', 100)).resolves.toBe(true);
    await sleep(300);
    await expect(b.firstUse('c:a2', 100)).resolves.toBe(true);
  });

  it('keeps its keys under its prefix', async () => {
    const otherPrefix = `test:saml:${randomUUID()}:`;
    await new RedisSamlStateStore(redis, prefix).saveRequest('_r4', 'connection-a', 60_000);
    await expect(new RedisSamlStateStore(redis, otherPrefix).takeRequest('_r4')).resolves.toBeUndefined();
  });
});
