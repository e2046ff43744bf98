import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import {
  createTestDatabase,
  freePort,
  readServicesEnv,
  startOwnRedis,
  startProcess,
  type AppProcess,
  type OwnRedis,
  type TestDatabase,
} from '@app/testing';

const METRICS_TOKEN = 'redis-outage-metrics-token-0123';

/**
 * Redis crashes (the test's own server, SIGKILLed) under two replicas of the built api, one with
 * RATE_LIMIT_FAIL_MODE=open and one with closed, then comes back empty. Authentication keeps
 * working; each replica follows its fail mode; mails wait in the outbox and are queued once Redis
 * is back; the limits hold again afterwards.
 */
describe('Redis outage', () => {
  if (!readServicesEnv()) throw new Error('run with npm run test:services');
  let database: TestDatabase;
  let redis: OwnRedis;
  let open: AppProcess;
  let closed: AppProcess;
  let openBase: string;
  let closedBase: string;
  let db: Client;
  const json = { 'content-type': 'application/json' };
  const password = 'Tangerine-Vortex-Quill-8841';

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await startOwnRedis();
    const shared = {
      ...database.env,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: `ro${randomBytes(3).toString('hex')}`,
      HOST: '127.0.0.1',
      JWT_SECRET: randomBytes(32).toString('hex'),
      METRICS_TOKEN,
      AUTH_RATE_LIMIT_PER_MINUTE: '6',
      // Parallel sign-ins each reserve a lockout attempt: not what this test is about.
      LOCKOUT_THRESHOLD: '50',
    };
    const [openPort, closedPort] = [await freePort(), await freePort()];
    open = startProcess('api', { ...shared, PORT: String(openPort), RATE_LIMIT_FAIL_MODE: 'open' });
    closed = startProcess('api', { ...shared, PORT: String(closedPort), RATE_LIMIT_FAIL_MODE: 'closed' });
    await Promise.all([open.waitForOutput(/api listening/), closed.waitForOutput(/api listening/)]);
    openBase = `http://127.0.0.1:${openPort}`;
    closedBase = `http://127.0.0.1:${closedPort}`;
    db = new Client({ connectionString: database.env.DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    if (open) expect(await open.stop('SIGTERM')).toBe(0);
    if (closed) expect(await closed.stop('SIGTERM')).toBe(0);
    await redis?.destroy();
    await database?.drop();
  });

  const until = async (probe: () => Promise<boolean>, what: string) => {
    for (let i = 0; i < 200; i++) {
      if (await probe()) return;
      await sleep(100);
    }
    throw new Error(`not reached in 20 s: ${what}`);
  };
  const post = (base: string, path: string, body: unknown) =>
    fetch(`${base}/api/v1${path}`, { method: 'POST', headers: json, body: JSON.stringify(body) });
  const me = (base: string, token: string) =>
    fetch(`${base}/api/v1/users/me`, { headers: { authorization: `Bearer ${token}` } });
  const login = async (base: string, email: string) => {
    const res = await post(base, '/auth/login', { email, password });
    return { status: res.status, token: res.ok ? ((await res.json()) as { access_token: string }).access_token : '' };
  };
  const outbox = async (email: string) =>
    (
      await db.query<{ published_at: Date | null; last_error: string | null }>(
        "SELECT published_at, last_error FROM outbox WHERE payload->>'to' = $1",
        [email],
      )
    ).rows[0];
  const failOpenCount = async () => {
    const text = await (
      await fetch(`${openBase}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    return Number(/rate_limit_store_failures_total\{mode="open"\} (\d+)/.exec(text)?.[1] ?? 0);
  };

  it('keeps signing in, follows each fail mode, holds mails in the outbox, and recovers', async () => {
    const email = 'redis-outage@example.test';
    expect((await post(openBase, '/auth/register', { email, password })).status).toBe(201);
    const { token } = await login(openBase, email);
    expect((await me(openBase, token)).status).toBe(200);
    expect((await me(closedBase, token)).status).toBe(200);
    expect(await failOpenCount()).toBe(0);

    await redis.kill();
    await until(async () => (await fetch(`${openBase}/api/v1/health`)).status === 503, 'readiness reports Redis');

    // Authentication does not depend on Redis: the token still works, and signing in works.
    expect((await me(openBase, token)).status).toBe(200);
    // Fail open: more sign-ins than the limit allows (6 a minute, 2 used), none refused, each counted.
    const during = await Promise.all(Array.from({ length: 6 }, () => login(openBase, email)));
    expect(during.map((attempt) => attempt.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await me(openBase, during[0]!.token)).status).toBe(200);
    expect(await failOpenCount()).toBeGreaterThanOrEqual(6);

    // Fail closed: requests that cannot be counted are refused with 503 problem+json, not 500.
    const refused = await me(closedBase, token);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await refused.json()).toMatchObject({
      status: 503,
      type: expect.stringContaining('rate-limiter-unavailable') as unknown,
    });
    // Liveness never depends on Redis.
    expect((await fetch(`${closedBase}/health`)).status).toBe(200);

    // A sign-up still succeeds; its mail waits in the outbox.
    const newcomer = 'redis-outage-newcomer@example.test';
    expect((await post(openBase, '/auth/register', { email: newcomer, password })).status).toBe(201);
    await until(async () => Boolean((await outbox(newcomer))?.last_error), 'the relay tried and kept the row');
    expect((await outbox(newcomer))?.published_at).toBeNull();

    // Redis comes back, empty.
    await redis.start();
    await until(async () => (await me(closedBase, token)).status === 200, 'the fail-closed replica serves again');
    await until(async () => (await outbox(newcomer))?.published_at != null, 'the waiting mail is queued');
    // The limits are counted again: the seventh sign-in within the minute is refused.
    const after: number[] = [];
    for (let i = 0; i < 7; i++) after.push((await login(openBase, email)).status);
    expect(after.slice(0, 6)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(after[6]).toBe(429);
    expect(open.output()).not.toMatch(/"status":500/);
    expect(closed.output()).not.toMatch(/"status":500/);
  });
});
