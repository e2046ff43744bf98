import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_QUEUE, definedJobs, JobQueue, type JobDefinition } from '@app/queue';
import Redis from 'ioredis';
import { parseAllDocuments } from 'yaml';
import { createTestApp, type TestApp } from '@app/testing';

/**
 * The KEDA component scales the workers on the length of Redis lists it names. This proves those
 * names are the keys BullMQ really fills when the framework enqueues a job on each queue (with this
 * run's QUEUE_PREFIX in place of the manifests' `saas`), so a trigger cannot watch an empty key.
 */
describe('KEDA triggers watch the lists BullMQ fills', () => {
  let api: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    api = await createTestApp({ redis: true });
    redis = new Redis(api.config.redisUrl ?? '');
  });
  afterAll(async () => {
    redis?.disconnect();
    await api?.close();
  });

  it('each Redis trigger of deploy/k8s/components/keda grows by one when a job of its queue is enqueued', async () => {
    const file = join(__dirname, '../../deploy/k8s/components/keda/scaledobjects.yaml');
    const triggers = parseAllDocuments(readFileSync(file, 'utf8')).flatMap(
      (document) =>
        (document.toJS() as { spec: { triggers: Array<{ type: string; metadata: { listName: string } }> } }).spec
          .triggers,
    );
    // One job of each queue the loaded modules define (the api loads them all).
    const jobs: Record<string, JobDefinition<unknown>> = {};
    for (const job of definedJobs()) jobs[job.queue] ??= job;
    expect(Object.keys(jobs)).toEqual(expect.arrayContaining([DEFAULT_QUEUE, 'llm', 'webhooks']));
    const queues = triggers.map((trigger) => {
      expect(trigger.type).toBe('redis');
      const match = /^saas:([a-z0-9_-]+):wait$/.exec(trigger.metadata.listName);
      expect(match).not.toBeNull();
      return match?.[1] ?? '';
    });
    // Every queue a job of the framework uses is watched by some trigger.
    expect([...queues].sort()).toEqual(Object.keys(jobs).sort());
    for (const queue of queues) {
      const key = `${api.config.queuePrefix}:${queue}:wait`;
      const before = await redis.llen(key);
      await api.app.get(JobQueue).enqueue(jobs[queue] as JobDefinition<unknown>, {});
      expect({ queue, waiting: await redis.llen(key) }).toEqual({ queue, waiting: before + 1 });
    }
  });
});
