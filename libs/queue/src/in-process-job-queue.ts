import { Metrics, newId } from '@app/common';
import { jobSpan } from '@app/telemetry';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CLS_ID, ClsService } from 'nestjs-cls';
import { setTimeout as sleep } from 'node:timers/promises';
import { retryDelayMs, type EnqueueOptions, type JobDefinition } from './job-definition';
import { InProcessDeadLetters } from './dead-letters';
import { JobQueue } from './job-queue';
import { ProcessorRegistry } from './processor-registry';

/**
 * Runs jobs inside the api process (no Redis): after the caller's turn, with the job's
 * retry policy. Shutdown waits for the jobs in flight. Nothing survives a crash, which is
 * why production deployments set REDIS_URL and run the worker.
 */
@Injectable()
export class InProcessJobQueue extends JobQueue implements OnApplicationShutdown {
  readonly driver = 'in-process' as const;
  private readonly logger = new Logger('InProcessJobQueue');
  private readonly inFlight = new Set<Promise<void>>();
  private readonly seen = new Set<string>();

  constructor(
    private readonly registry: ProcessorRegistry,
    private readonly cls: ClsService,
    private readonly deadLetters: InProcessDeadLetters,
    private readonly metrics: Metrics,
  ) {
    super();
    metrics.gauge('queue_jobs', 'Jobs by queue and state.', ['queue', 'state'], () => [
      [{ queue: 'in-process', state: 'active' }, this.inFlight.size],
      [{ queue: 'in-process', state: 'failed' }, this.deadLetters.size],
    ]);
  }

  enqueue<TPayload>(
    definition: JobDefinition<TPayload>,
    payload: TPayload,
    options: EnqueueOptions = {},
  ): Promise<string> {
    const id = options.jobId ?? newId();
    if (this.seen.has(id)) return Promise.resolve(id);
    this.seen.add(id);
    const run = this.execute(definition, payload, id, options.delayMs ?? 0).finally(() => {
      this.inFlight.delete(run);
      this.seen.delete(id);
    });
    this.inFlight.add(run);
    return Promise.resolve(id);
  }

  /** Resolves when every job enqueued so far has finished (tests use it). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  private async execute<TPayload>(definition: JobDefinition<TPayload>, payload: TPayload, id: string, delayMs: number) {
    const enqueuedAt = new Date();
    // Let the enqueuing request finish first, like a real queue would.
    await sleep(delayMs);
    const processor = this.registry.get(definition.name);
    if (!processor) {
      this.logger.error(`No processor for job ${definition.name}; job ${id} dropped`);
      return;
    }
    for (let attempt = 1; attempt <= definition.attempts; attempt++) {
      const timer = this.metrics.jobDuration.startTimer({ job: definition.name });
      try {
        await jobSpan(definition.name, { 'job.id': id, 'job.queue': definition.queue, 'job.attempt': attempt }, () =>
          // A context of its own, as on the worker: not the enqueuing request's (its caller, tenant,
          // impersonator and address would otherwise reach the job's audit rows).
          this.cls.runWith({ [CLS_ID]: id }, () => processor.handler.handle(payload, { id, attempt })),
        );
        timer({ outcome: 'success' });
        return;
      } catch (error) {
        timer({ outcome: 'failure' });
        const last = attempt === definition.attempts;
        this.logger.warn(
          { job: definition.name, jobId: id, attempt, err: error },
          last ? 'job failed for good' : 'job failed, retrying',
        );
        if (last) {
          this.deadLetters.record(definition, id, attempt, error, enqueuedAt, () => {
            void this.enqueue(definition, payload, { jobId: id });
          });
          return;
        }
        await sleep(retryDelayMs(definition.backoffMs, attempt));
      }
    }
  }
}
