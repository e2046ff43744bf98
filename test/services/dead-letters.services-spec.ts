import { TenantTransaction, User } from '@app/database';
import { JobQueue } from '@app/queue';
import { PlatformAdmins } from '@app/rbac';
import {
  bearer,
  createTestApp,
  FlakyJob,
  FlakyJobModule,
  FlakyJobState,
  freePort,
  registerAndLogin,
  silentLogger,
  type TestApp,
} from '@app/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { createWorker } from '../../apps/worker/src/bootstrap';

/** The BullMQ dead letters: a job that failed every attempt in a worker, listed, retried and discarded. */
describe('dead letters (BullMQ)', () => {
  let api: TestApp;
  let worker: INestApplicationContext;
  let token: string;

  const call = (method: 'GET' | 'POST' | 'DELETE', path: string) =>
    api.inject({ method, url: `/api/v1/admin/jobs${path}`, headers: bearer(token) });
  const until = async <T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const value = await probe();
      if (done(value)) return value;
      await sleep(50);
    }
    throw new Error('timed out waiting');
  };
  const failedIds = async () =>
    (await call('GET', '/failed')).json<{ items: Array<{ id: string; attemptsMade: number }> }>().items;

  beforeAll(async () => {
    api = await createTestApp({ redis: true, modules: [FlakyJobModule] });
    ({ app: worker } = await createWorker(api.config, silentLogger(), [FlakyJobModule]));
    const admin = await registerAndLogin(api, 'bull-admin');
    token = admin.tokens.access_token;
    await api.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.update(User, { id: admin.userId }, { isPlatformAdmin: true }));
    await api.app.get(PlatformAdmins).invalidate(admin.userId);
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
  });

  it('lists a job the worker failed every attempt, retries it once it can succeed, and discards another', async () => {
    FlakyJobState.failing = true;
    const jobs = api.app.get(JobQueue);
    const first = await jobs.enqueue(FlakyJob, { label: 'bull-1' });
    const second = await jobs.enqueue(FlakyJob, { label: 'bull-2' });
    const letters = await until(failedIds, (items) => items.length === 2);
    expect(letters.map((letter) => letter.id).sort()).toEqual([first, second].sort());
    expect(letters.every((letter) => letter.attemptsMade === 2)).toBe(true);
    // The processor had the BullMQ job in hand (context.job).
    expect(FlakyJobState.runs.filter((run) => run.id === first).map((run) => run.bullmq)).toEqual([first, first]);

    FlakyJobState.failing = false;
    expect((await call('POST', `/${first}/retry`)).statusCode).toBe(202);
    await until(
      () => Promise.resolve(FlakyJobState.runs.filter((run) => run.id === first).length),
      (runs) => runs === 3,
    );
    expect(await until(failedIds, (items) => items.length === 1)).toEqual([expect.objectContaining({ id: second })]);

    expect((await call('DELETE', `/${second}`)).statusCode).toBe(204);
    expect(await failedIds()).toEqual([]);
    expect((await call('POST', `/${second}/retry`)).statusCode).toBe(404);
    // The retried job ran exactly once more.
    await sleep(200);
    expect(FlakyJobState.runs.filter((run) => run.id === first)).toHaveLength(3);
  });
});

describe('dead letters and queue metrics while Redis is away', () => {
  let api: TestApp;

  beforeAll(async () => {
    const nothing = await freePort();
    api = await createTestApp({
      redis: true,
      env: { REDIS_URL: `redis://127.0.0.1:${nothing}`, METRICS_TOKEN: 'a-metrics-token-of-some-length' },
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers 503 problem+json instead of waiting for Redis, and still serves metrics', async () => {
    const admin = await registerAndLogin(api, 'no-redis-admin');
    await api.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.update(User, { id: admin.userId }, { isPlatformAdmin: true }));
    await api.app.get(PlatformAdmins).invalidate(admin.userId);
    const failed = await api.inject({
      method: 'GET',
      url: '/api/v1/admin/jobs/failed',
      headers: bearer(admin.tokens.access_token),
    });
    expect(failed.statusCode).toBe(503);
    expect(failed.headers['content-type']).toContain('application/problem+json');
    const metrics = await api.inject({
      method: 'GET',
      url: '/metrics',
      headers: bearer('a-metrics-token-of-some-length'),
    });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('http_request_duration_seconds');
    expect(metrics.body).not.toMatch(/^queue_jobs\{/m);
  });
});
