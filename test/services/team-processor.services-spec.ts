import { BullModule, InjectQueue } from '@nestjs/bullmq';
import { Injectable, Module } from '@nestjs/common';
import { Job, Queue, QueueEvents } from 'bullmq';
import { createTestApp, readServicesEnv, startProcess, type AppProcess, type TestApp } from '@app/testing';

/** A team's service that produces on its own queue, the @nestjs/bullmq way. */
@Injectable()
class ReportRequests {
  constructor(@InjectQueue('reports') readonly queue: Queue) {}
}
@Module({ imports: [BullModule.registerQueue({ name: 'reports' })], providers: [ReportRequests] })
class ReportRequestsModule {}

/**
 * @nestjs/bullmq in the framework: the api's queues are BullModule's (a team injects one with
 * @InjectQueue), and the real worker process runs a team-written `@Processor('reports') class …
 * extends WorkerHost` (test/support/team-worker.cjs) beside the framework's @JobProcessor handlers,
 * with the BullMQ Job in hand; a @Processor on a framework queue is refused at start.
 */
describe('a team-written @nestjs/bullmq processor in the worker', () => {
  const services = readServicesEnv();
  if (!services) throw new Error('run with npm run test:services');
  const prefix = `tp${Date.now().toString(36)}`;
  let api: TestApp;
  let worker: AppProcess;
  let events: QueueEvents;

  const workerEnv = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: api.config.database.kind === 'postgres' ? api.config.database.url : undefined,
    REDIS_URL: services.redisUrl,
    QUEUE_PREFIX: prefix,
    ...extra,
  });

  beforeAll(async () => {
    api = await createTestApp({ redis: true, env: { QUEUE_PREFIX: prefix }, modules: [ReportRequestsModule] });
    events = new QueueEvents('reports', { connection: { url: services.redisUrl }, prefix });
    await events.waitUntilReady();
    worker = startProcess('team-worker', workerEnv());
    await worker.waitForOutput(/team worker ready: .*reports/);
  });
  afterAll(async () => {
    await worker?.stop();
    await events?.close();
    await api?.close();
  });

  it('runs the job the api queued with @InjectQueue, with the BullMQ job (progress, log) in hand', async () => {
    const queue = api.app.get(ReportRequests).queue;
    expect(queue.opts.prefix).toBe(prefix);
    const job = await queue.add('monthly', { values: [3, 4, 5] });
    const result = (await job.waitUntilFinished(events, 20_000)) as { total: number; pid: number };
    expect(result.total).toBe(12);
    // In the worker process, not in the api's.
    expect(result.pid).toBe(worker.child.pid);
    const done = await Job.fromId(queue, job.id ?? '');
    expect(done?.progress).toBe(50);
    expect((await queue.getJobLogs(job.id ?? '')).logs).toEqual(['summing 3 values']);
  });

  it('keeps a failed job for the dead letters, with its reason', async () => {
    const queue = api.app.get(ReportRequests).queue;
    const job = await queue.add('broken', { values: [], fail: true }, { attempts: 1 });
    await expect(job.waitUntilFinished(events, 20_000)).rejects.toThrow('the report cannot be built');
    expect(await (await Job.fromId(queue, job.id ?? ''))?.getState()).toBe('failed');
  });

  it('also runs the framework queues in the same process', () => {
    expect(worker.output()).toMatch(/team worker ready: default,.*reports/);
  });

  it('refuses a @Processor on a queue the framework consumes, naming it', async () => {
    const clash = startProcess('team-worker', workerEnv({ TEAM_QUEUE: 'default' }));
    expect(await clash.exited).toBe(1);
    expect(clash.output()).toContain('@Processor on queue(s) default, which @JobProcessor handlers consume');
  });

  it('leaves a @Processor alone when WORKER_QUEUES does not name its queue', async () => {
    const other = startProcess('team-worker', workerEnv({ WORKER_QUEUES: 'default' }));
    await other.waitForOutput(/team worker ready: /);
    expect(other.output()).toMatch(/team worker ready: default\n/);
    await other.stop();
  });
});
