import { Metrics } from '@app/common';
import { jobSpan } from '@app/telemetry';
import { AppConfig } from '@app/config';
import type { WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import type { Job, MinimalJob, Processor, Worker, WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { CLS_ID, ClsService } from 'nestjs-cls';
import { frameworkQueues, retryDelayMs } from './job-definition';
import { ProcessorRegistry } from './processor-registry';
import { QUEUE_CONNECTION } from './queue-connection';
import { bullmq, nestBullmq } from './lazy-packages';
import { createRedisConnection } from './redis-connection';

let deferredWorker: typeof Worker | undefined;

/**
 * A BullMQ Worker that waits to be told to run: @nestjs/bullmq makes the Workers of @Processor
 * classes with it, so the host can first check their queues, then run only those this process
 * consumes (WORKER_QUEUES). Defined on first use, as BullMQ itself is loaded.
 */
function deferredWorkerClass(): typeof Worker {
  deferredWorker ??= class DeferredWorker extends bullmq().Worker {
    constructor(name: string, processor?: string | Processor | null, options?: WorkerOptions) {
      super(name, processor, { ...options, autorun: false } as WorkerOptions);
    }
  };
  return deferredWorker;
}

/**
 * Runs a BullMQ worker per queue that has processors (apps/worker only), or per queue of
 * WORKER_QUEUES, each with its own concurrency (WORKER_QUEUE_CONCURRENCY, else WORKER_CONCURRENCY). On shutdown each
 * worker stops taking jobs and waits for the current ones, so no job is cut in half.
 *
 * Beside the framework's @JobProcessor contracts it runs a team's plain @nestjs/bullmq processors
 * (`@Processor('reports') class X extends WorkerHost`) found in the worker's modules, on their own
 * queues: a @Processor on a queue that @JobProcessor handlers consume is refused at start, since
 * two kinds of worker on one queue would take each other's jobs.
 */
@Injectable()
export class BullMqWorkerHost implements BeforeApplicationShutdown {
  private readonly logger = new Logger('BullMqWorkerHost');
  private readonly workers: Worker[] = [];
  /** The Workers of team @Processor classes this process runs (closed by @nestjs/bullmq). */
  private readonly teamWorkers: Worker[] = [];
  /** BullMQ leaves connections it was given open on close(): they are ours to end. */
  private readonly connections: Redis[] = [];

  constructor(
    private readonly config: AppConfig,
    private readonly registry: ProcessorRegistry,
    private readonly cls: ClsService,
    private readonly metrics: Metrics,
    private readonly moduleRef: ModuleRef,
    private readonly discovery: DiscoveryService,
    /** The shared queue connection the team's Workers use (absent without Redis). */
    @Optional() @Inject(QUEUE_CONNECTION) private readonly queueConnection?: Redis,
  ) {}

  /** For the worker's probe: each queue's worker runs and its Redis connection is ready. */
  status(): {
    healthy: boolean;
    queues: Array<{ queue: string; running: boolean; redis: string; concurrency: number }>;
  } {
    const queues = [
      ...this.workers.map((worker, i) => ({
        queue: worker.name,
        running: worker.isRunning() && !worker.closing,
        concurrency: worker.concurrency,
        redis: this.connections[i]?.status ?? 'none',
      })),
      ...this.teamWorkers.map((worker) => ({
        queue: worker.name,
        running: worker.isRunning() && !worker.closing,
        concurrency: worker.concurrency,
        redis: this.queueConnection?.status ?? 'none',
      })),
    ];
    return {
      healthy: queues.length > 0 && queues.every((queue) => queue.running && queue.redis === 'ready'),
      queues,
    };
  }

  async start(): Promise<string[]> {
    if (!this.config.redisUrl) throw new Error('The worker needs REDIS_URL');
    const known = this.registry.queues();
    const wanted = this.config.workerQueues;
    const team = await this.prepareTeamProcessors();
    const teamQueues = [...new Set(team.map((worker) => worker.name))];
    for (const queue of wanted?.filter((name) => !known.includes(name) && !teamQueues.includes(name)) ?? []) {
      this.logger.warn(`WORKER_QUEUES names ${queue}, which has no processors here`);
    }
    const queues = wanted ? known.filter((queue) => wanted.includes(queue)) : known;
    const teamRun = team.filter((worker) => !wanted || wanted.includes(worker.name));
    if (queues.length === 0 && teamRun.length === 0) throw new Error('No queue to work on (see WORKER_QUEUES)');
    for (const worker of teamRun) {
      worker.on('error', (error: Error) => this.logger.warn(`worker ${worker.name}: ${error.message}`));
      this.teamWorkers.push(worker);
      void worker.run();
      await worker.waitUntilReady();
    }
    // Those of queues this process does not consume were never started; they only need closing.
    await Promise.allSettled(team.filter((worker) => !teamRun.includes(worker)).map((worker) => worker.close()));
    for (const queue of queues) {
      const connection = createRedisConnection(this.config.redisUrl, 'worker', `worker-${queue}`);
      this.connections.push(connection);
      const worker = new (bullmq().Worker)(queue, (job: Job) => this.process(job), {
        connection,
        prefix: this.config.queuePrefix,
        concurrency: this.config.workerQueueConcurrency[queue] ?? this.config.workerConcurrency,
        // A dead worker's job is found stalled and run again by another worker after this long.
        lockDuration: this.config.workerLockMs,
        stalledInterval: this.config.workerLockMs,
        autorun: false,
        settings: {
          backoffStrategy: (attemptsMade: number, _type?: string, _error?: Error, job?: MinimalJob) => {
            const base = typeof job?.opts.backoff === 'object' ? (job.opts.backoff.delay ?? 1_000) : 1_000;
            return retryDelayMs(base, attemptsMade);
          },
        },
      });
      worker.on('error', (error: Error) => this.logger.warn(`worker ${queue}: ${error.message}`));
      worker.on('failed', (job: Job | undefined, error: Error) =>
        this.logger.warn(
          { queue, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, err: error },
          'job failed',
        ),
      );
      this.workers.push(worker);
      void worker.run();
      await worker.waitUntilReady();
    }
    return [...queues, ...teamRun.map((worker) => worker.name)];
  }

  /**
   * Has @nestjs/bullmq make the Workers of the team's @Processor classes (not yet running), and
   * refuses a @Processor whose queue a @JobProcessor handler also consumes.
   */
  private async prepareTeamProcessors(): Promise<Worker[]> {
    const hosts = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((instance): instance is WorkerHost => instance instanceof nestBullmq().WorkerHost);
    if (hosts.length === 0) return [];
    const { BullModule, BullRegistrar } = nestBullmq();
    BullModule.workerClass = deferredWorkerClass();
    try {
      this.moduleRef.get(BullRegistrar, { strict: false }).register();
    } finally {
      // Process-wide: whatever else makes Workers through BullModule gets BullMQ's own again.
      BullModule.workerClass = bullmq().Worker;
    }
    const workers = hosts.map((host) => host.worker);
    // Every queue a job contract names (processed here or not) is the framework's, and `default`.
    const framework = frameworkQueues();
    const clashing = workers.filter((worker) => framework.includes(worker.name));
    if (clashing.length > 0) {
      await Promise.allSettled(workers.map((worker) => worker.close()));
      throw new Error(
        `@Processor on queue(s) ${[...new Set(clashing.map((worker) => worker.name))].join(', ')}, which ` +
          '@JobProcessor handlers consume: give the @Processor a queue of its own (docs/background-jobs.md).',
      );
    }
    return workers;
  }

  private async process(job: Job): Promise<void> {
    const processor = this.registry.get(job.name);
    if (!processor) throw new Error(`No processor for job ${job.name}`);
    const id = job.id ?? job.name;
    const timer = this.metrics.jobDuration.startTimer({ job: job.name });
    try {
      await jobSpan(job.name, { 'job.id': id, 'job.queue': job.queueName, 'job.attempt': job.attemptsMade + 1 }, () =>
        // A context of its own, whatever context the queue's callback runs in.
        this.cls.runWith({ [CLS_ID]: id }, () =>
          processor.handler.handle(job.data, { id, attempt: job.attemptsMade + 1, job }),
        ),
      );
      timer({ outcome: 'success' });
    } catch (error) {
      timer({ outcome: 'failure' });
      throw error;
    }
  }

  /**
   * Before the shutdown hooks (which end the shared queue connection): every worker, the team's
   * too, stops taking jobs and finishes the ones it has, while Redis is still there to record them.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.workers, ...this.teamWorkers].map((worker) => worker.close()));
    for (const connection of this.connections) connection.disconnect();
  }
}
