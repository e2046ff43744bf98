import { Metrics, newId } from '@app/common';
import { AppConfig } from '@app/config';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { DEFAULT_QUEUE, type EnqueueOptions, type JobDefinition } from './job-definition';
import { ProcessorRegistry } from './processor-registry';
import { JobQueue } from './job-queue';
import { bullmq, nestBullmq } from './lazy-packages';
import { QUEUE_CONNECTION } from './queue-connection';

/** Keeps failed jobs for inspection (the dead letters) and a bounded tail of completed ones. */
export const JOB_RETENTION = {
  removeOnComplete: { count: 1_000, age: 24 * 3600 },
  removeOnFail: false,
} as const;

const ENQUEUE_TIMEOUT_MS = 2_000;

/**
 * BullMQ waits for Redis indefinitely; a request (or a metrics scrape) must not: the operation is
 * abandoned after `ms` (it may still complete later).
 */
export async function withinTime<T>(operation: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([operation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends jobs to Redis; apps/worker processes them. The queues are @nestjs/bullmq's (registered by
 * QueueModule, so a team's service can also take one with `@InjectQueue(name)`); a queue named by
 * no loaded job definition is made here on the same shared connection.
 */
@Injectable()
export class BullMqJobQueue extends JobQueue implements OnApplicationShutdown {
  readonly driver = 'bullmq' as const;
  private readonly logger = new Logger('BullMqJobQueue');
  private readonly connection: Redis;
  private readonly queues = new Map<string, Queue>();
  /** Made here (not registered with BullModule): closed here. */
  private readonly own: Queue[] = [];

  constructor(
    private readonly config: AppConfig,
    registry: ProcessorRegistry,
    metrics: Metrics,
    private readonly moduleRef: ModuleRef,
    @Inject(QUEUE_CONNECTION) connection: Redis,
  ) {
    super();
    if (!config.redisUrl) throw new Error('BullMqJobQueue needs REDIS_URL');
    this.connection = connection;
    // Read at scrape time; while Redis is away the gauge is simply absent.
    metrics.asyncGauge('queue_jobs', 'Jobs by queue and state.', ['queue', 'state'], async () => {
      const names = [...new Set([DEFAULT_QUEUE, ...registry.queues()])];
      const none: Record<string, number> = {};
      const counts = await Promise.all(
        names.map((name) =>
          withinTime(
            this.queue(name).getJobCounts('waiting', 'active', 'delayed', 'failed'),
            ENQUEUE_TIMEOUT_MS,
            'Redis did not answer in time',
          ).catch(() => none),
        ),
      );
      return names.flatMap((queue, i) =>
        Object.entries(counts[i] ?? {}).map(([state, value]): [Record<string, string>, number] => [
          { queue, state },
          value,
        ]),
      );
    });
  }

  async enqueue<TPayload>(
    definition: JobDefinition<TPayload>,
    payload: TPayload,
    options: EnqueueOptions = {},
  ): Promise<string> {
    const jobId = options.jobId ?? newId();
    const added = this.queue(definition.queue).add(definition.name, payload, {
      jobId,
      attempts: definition.attempts,
      backoff: { type: 'jittered', delay: definition.backoffMs },
      delay: options.delayMs,
      ...JOB_RETENTION,
    });
    // BullMQ waits for Redis indefinitely; a request must not. (The add may still land later.)
    await withinTime(added, ENQUEUE_TIMEOUT_MS, 'Redis did not accept the job in time');
    return jobId;
  }

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = this.registered(name);
      if (!queue) {
        queue = new (bullmq().Queue)(name, { connection: this.connection, prefix: this.config.queuePrefix });
        this.own.push(queue);
      }
      queue.on('error', (error: Error) => this.logger.warn(`queue ${name}: ${error.message}`));
      this.queues.set(name, queue);
    }
    return queue;
  }

  private registered(name: string): Queue | undefined {
    try {
      return this.moduleRef.get<Queue>(nestBullmq().getQueueToken(name), { strict: false });
    } catch {
      return undefined;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // The registered queues are closed by @nestjs/bullmq, the shared connection by its module.
    await Promise.allSettled(this.own.map((queue) => queue.close()));
  }
}
