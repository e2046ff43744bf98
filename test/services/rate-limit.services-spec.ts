import { randomUUID } from 'node:crypto';
import { AppConfig } from '@app/config';
import Redis from 'ioredis';
import { RateLimitStorage } from '../../apps/api/src/rate-limit/rate-limit.storage';
import { createTestApp, type TestApp } from '@app/testing';

/** Two api replicas sharing Redis count one client's requests together. */
describe('rate limit across replicas', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const env = { RATE_LIMIT_PER_MINUTE: '4', TRUST_PROXY: 'true' };
    a = await createTestApp({ redis: true, env });
    b = await createTestApp({ redis: true, replicaOf: a, env });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('refuses the fifth request of a client whose requests alternate between replicas', async () => {
    const call = (app: TestApp) =>
      app.inject({ method: 'GET', url: '/api/v1/auth/providers', headers: { 'x-forwarded-for': '198.51.100.77' } });
    const statuses: number[] = [];
    for (const app of [a, b, a, b, a, b]) statuses.push((await call(app)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    const remaining = await a.inject({
      method: 'GET',
      url: '/api/v1/auth/providers',
      headers: { 'x-forwarded-for': '198.51.100.78' },
    });
    expect(remaining.headers['ratelimit-remaining']).toBe('3');
  });
});

/**
 * A replica may count a few hits ahead in Redis (a lease) and spend them without a round trip.
 * Every admitted hit is counted in Redis first, so the limit holds across replicas; real Redis.
 */
describe('rate-limit leases', () => {
  let api: TestApp;
  let redis: Redis;
  const made: RateLimitStorage[] = [];

  beforeAll(async () => {
    api = await createTestApp({ redis: true });
    redis = new Redis(api.config.redisUrl ?? '');
  });
  afterAll(async () => {
    await Promise.all(made.map((storage) => storage.onModuleDestroy()));
    redis?.disconnect();
    await api?.close();
  });

  const replica = async (prefix: string, lease?: number, env: Record<string, string> = {}) => {
    const storage = new RateLimitStorage(
      AppConfig.fromEnv({
        JWT_SECRET: 'x'.repeat(40),
        NODE_ENV: 'test',
        REDIS_URL: api.config.redisUrl ?? '',
        QUEUE_PREFIX: prefix,
        ...(lease === undefined ? {} : { RATE_LIMIT_LEASE: String(lease) }),
        ...env,
      }),
    );
    made.push(storage);
    // The limiter's connection refuses commands until it is up (and then fails open): wait for it.
    const connection = (storage as unknown as { redis: Redis }).redis;
    if (connection.status !== 'ready') await new Promise((resolve) => connection.once('ready', resolve));
    return storage;
  };
  const counted = async (prefix: string, key: string) => Number(await redis.get(`${prefix}:rl:${key}`));

  it('one replica admits exactly the limit, reports each hit, and counts ahead in Redis', async () => {
    const prefix = `rl-${randomUUID()}`;
    const storage = await replica(prefix);
    const records = [];
    for (let i = 0; i < 230; i += 1) records.push(await storage.increment('user:a', 60_000, 200, 60_000, 1, true));
    const admitted = records.filter((record) => !record.isBlocked);
    expect(admitted).toHaveLength(200);
    // Admitted in order, each one's count its place: what RateLimit-Remaining is made from.
    expect(admitted.map((record) => record.totalHits)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(records.slice(200).every((record) => record.isBlocked)).toBe(true);
    // The first round trip took the request's hit and a lease of 16 more.
    const fresh = `rl-${randomUUID()}`;
    await (await replica(fresh)).increment('user:b', 60_000, 200, 60_000, 1, true);
    expect(await counted(fresh, 'user:b')).toBe(17);
  });

  it('requests arriving together wait for one lease and spend it: one round trip for 17', async () => {
    const prefix = `rl-${randomUUID()}`;
    const storage = await replica(prefix);
    const together = await Promise.all(
      Array.from({ length: 17 }, () => storage.increment('user:h', 60_000, 200, 60_000, 1, true)),
    );
    expect(await counted(prefix, 'user:h')).toBe(17);
    expect(together.map((record) => record.totalHits).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 17 }, (_, i) => i + 1),
    );
  });

  it('one replica serves a burst of concurrent requests in full, then exactly what is left', async () => {
    const storage = await replica(`rl-${randomUUID()}`);
    const burst = await Promise.all(
      Array.from({ length: 150 }, () => storage.increment('user:g', 60_000, 200, 60_000, 1, true)),
    );
    expect(burst.filter((record) => record.isBlocked)).toHaveLength(0);
    const after = [];
    for (let i = 0; i < 80; i += 1) after.push(await storage.increment('user:g', 60_000, 200, 60_000, 1, true));
    expect(after.filter((record) => !record.isBlocked)).toHaveLength(50);
  });

  it('replicas sharing a caller never admit more than the limit between them', async () => {
    const prefix = `rl-${randomUUID()}`;
    const replicas = await Promise.all([replica(prefix), replica(prefix), replica(prefix)]);
    const records = await Promise.all(
      Array.from({ length: 600 }, (_, i) => replicas[i % 3]!.increment('user:c', 60_000, 200, 60_000, 1, true)),
    );
    const admitted = records.filter((record) => !record.isBlocked).length;
    expect(admitted).toBeLessThanOrEqual(200);
    // Leases left unspent on the other replicas make it run out early, by at most 16 each.
    expect(admitted).toBeGreaterThanOrEqual(200 - 3 * 16);
  });

  it('takes no lease near the limit, nor with RATE_LIMIT_LEASE=0', async () => {
    const prefix = `rl-${randomUUID()}`;
    // Limit 16 or less: an eighth of what is left is under two hits, so every request is a round trip.
    const storage = await replica(prefix);
    await storage.increment('user:d', 60_000, 16, 60_000, 1, true);
    expect(await counted(prefix, 'user:d')).toBe(1);
    for (let i = 0; i < 2; i += 1) await storage.increment('user:d', 60_000, 16, 60_000, 1, true);
    expect(await counted(prefix, 'user:d')).toBe(3);
    // Limit 17: two hits are an eighth of what is left after the first, so a lease of 2.
    await storage.increment('user:i', 60_000, 17, 60_000, 1, true);
    expect(await counted(prefix, 'user:i')).toBe(3);
    const off = await replica(prefix, 0);
    for (let i = 0; i < 3; i += 1) await off.increment('user:e', 60_000, 600, 60_000, 1, true);
    expect(await counted(prefix, 'user:e')).toBe(3);
  });

  it('spends a lease only under the limit it was taken for', async () => {
    const prefix = `rl-${randomUUID()}`;
    const storage = await replica(prefix);
    for (let i = 0; i < 3; i += 1) await storage.increment('user:j', 60_000, 200, 60_000, 1, true);
    // The same caller on a route with a stricter limit (@Throttle): Redis has 17 hits, over 5.
    expect(await storage.increment('user:j', 60_000, 5, 60_000, 1, true)).toMatchObject({ isBlocked: true });
  });

  it('takes no lease when failing closed: every request served is counted then', async () => {
    const prefix = `rl-${randomUUID()}`;
    const storage = await replica(prefix, undefined, { RATE_LIMIT_FAIL_MODE: 'closed' });
    for (let i = 0; i < 3; i += 1) await storage.increment('user:l', 60_000, 200, 60_000, 1, true);
    expect(await counted(prefix, 'user:l')).toBe(3);
  });

  it('takes no lease for a key the caller did not ask to lease (the credential limits)', async () => {
    const prefix = `rl-${randomUUID()}`;
    const storage = await replica(prefix);
    for (let i = 0; i < 3; i += 1) await storage.increment('account:k', 60_000, 200, 60_000);
    expect(await counted(prefix, 'account:k')).toBe(3);
  });

  it('drops a lease when its window ends', async () => {
    const prefix = `rl-${randomUUID()}`;
    const storage = await replica(prefix);
    expect(await storage.increment('user:f', 1_500, 200, 1_500, 1, true)).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
    expect(await counted(prefix, 'user:f')).toBe(17);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    // The old window's spare hits went with it: a new window, counted in Redis again.
    expect(await storage.increment('user:f', 1_500, 200, 1_500, 1, true)).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
    expect(await counted(prefix, 'user:f')).toBe(17);
  });
});
