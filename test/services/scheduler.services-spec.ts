import { JobQueue, JobScheduler, type BullMqJobQueue } from '@app/queue';
import { createTestApp, type TestApp } from '@app/testing';

/** Scheduled jobs on BullMQ: one job scheduler per job in Redis, however many replicas upsert it. */
describe('job schedules (BullMQ)', () => {
  let a: TestApp;
  let b: TestApp | undefined;

  beforeAll(async () => {
    a = await createTestApp({ redis: true, env: { AUDIT_RETENTION_DAYS: '30', AUDIT_RETENTION_CRON: '15 4 * * *' } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const scheduler = async (app: TestApp) => {
    await app.app.get(JobScheduler).settled();
    return app.app.get<JobQueue, BullMqJobQueue>(JobQueue).queue('default').getJobScheduler('audit.retention');
  };

  it('keeps one scheduler for the retention job, with the configured cron', async () => {
    const found = await scheduler(a);
    expect(found).toMatchObject({ key: 'audit.retention', pattern: '15 4 * * *', tz: 'UTC', name: 'audit.retention' });
    expect(found?.next).toBeGreaterThan(Date.now());
    // A second replica with the same settings upserts the same scheduler: still one.
    b = await createTestApp({
      redis: true,
      replicaOf: a,
      env: { AUDIT_RETENTION_DAYS: '30', AUDIT_RETENTION_CRON: '15 4 * * *' },
    });
    await b.app.get(JobScheduler).settled();
    const schedulers = await a.app.get<JobQueue, BullMqJobQueue>(JobQueue).queue('default').getJobSchedulers();
    expect(schedulers.filter((s) => s.name === 'audit.retention')).toHaveLength(1);
  });

  it('removes it when the retention is turned off', async () => {
    await b?.close();
    b = await createTestApp({ redis: true, replicaOf: a, env: { AUDIT_RETENTION_DAYS: undefined } });
    await b.app.get(JobScheduler).settled();
    expect(await scheduler(a)).toBeUndefined();
  });
});
