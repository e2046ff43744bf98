import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import type { Job } from 'bullmq';
import { BullMqJobQueue, withinTime } from './bullmq-job-queue';
import { DEFAULT_QUEUE, type JobDefinition } from './job-definition';
import { JobQueue } from './job-queue';
import { ProcessorRegistry } from './processor-registry';

/**
 * A job that used up its attempts. Its payload is not shown: job payloads carry what the job needs
 * (a mail's text holds a sign-in or reset link), which no operator should read off a dashboard.
 */
export interface DeadLetter {
  id: string;
  name: string;
  queue: string;
  attemptsMade: number;
  /** The last error's message. */
  error: string | null;
  enqueuedAt: Date | null;
  failedAt: Date | null;
}

/** Jobs that failed for good: list them, put one back in its queue, or discard it. */
export abstract class DeadLetters {
  /** Newest failures first. */
  abstract list(offset: number, limit: number): Promise<{ items: DeadLetter[]; total: number }>;
  abstract get(id: string): Promise<DeadLetter | undefined>;
  /** Back into its queue with a fresh set of attempts; the letter, or undefined when there is none. */
  abstract retry(id: string): Promise<DeadLetter | undefined>;
  /** Forgets it; the letter, or undefined when there is none. */
  abstract discard(id: string): Promise<DeadLetter | undefined>;
}

const MAX_LISTED = 1_000;
const REDIS_TIMEOUT_MS = 3_000;

/** A Redis round trip for an admin request: 503 (not a hang) while Redis is away. */
function redis<T>(operation: Promise<T>): Promise<T> {
  return withinTime(operation, REDIS_TIMEOUT_MS, 'Redis did not answer in time').catch((error: unknown) => {
    throw new ServiceUnavailableException('The job store (Redis) is unavailable. Try again shortly.', {
      cause: error,
    });
  });
}

/** BullMQ keeps failed jobs (removeOnFail: false): its failed set is the dead-letter list. */
@Injectable()
export class BullMqDeadLetters extends DeadLetters {
  constructor(
    private readonly jobs: JobQueue,
    private readonly registry: ProcessorRegistry,
  ) {
    super();
  }

  async list(offset: number, limit: number): Promise<{ items: DeadLetter[]; total: number }> {
    const perQueue = await Promise.all(
      this.queueNames().map(async (name) => {
        const queue = this.queue(name);
        const [total, jobs] = await redis(Promise.all([queue.getFailedCount(), queue.getFailed(0, MAX_LISTED - 1)]));
        return { total, jobs };
      }),
    );
    const all = perQueue
      .flatMap(({ jobs }) => jobs)
      .filter((job): job is Job => job !== undefined && job !== null)
      .map((job) => toDeadLetter(job))
      .sort((x, y) => (y.failedAt?.getTime() ?? 0) - (x.failedAt?.getTime() ?? 0));
    return { items: all.slice(offset, offset + limit), total: perQueue.reduce((sum, { total }) => sum + total, 0) };
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const job = await this.find(id);
    return job ? toDeadLetter(job) : undefined;
  }

  async retry(id: string): Promise<DeadLetter | undefined> {
    const job = await this.find(id);
    if (!job) return undefined;
    const letter = toDeadLetter(job);
    await redis(job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }));
    return letter;
  }

  async discard(id: string): Promise<DeadLetter | undefined> {
    const job = await this.find(id);
    if (!job) return undefined;
    const letter = toDeadLetter(job);
    await redis(job.remove());
    return letter;
  }

  private async find(id: string): Promise<Job | undefined> {
    for (const name of this.queueNames()) {
      const job = (await redis(this.queue(name).getJob(id))) as Job | undefined;
      if (job && (await redis(job.isFailed()))) return job;
    }
    return undefined;
  }

  private queueNames(): string[] {
    return [...new Set([DEFAULT_QUEUE, ...this.registry.queues()])];
  }

  private queue(name: string) {
    if (!(this.jobs instanceof BullMqJobQueue)) throw new Error('BullMqDeadLetters needs the BullMQ driver');
    return this.jobs.queue(name);
  }
}

function toDeadLetter(job: Job): DeadLetter {
  return {
    id: job.id ?? '',
    name: job.name,
    queue: job.queueName,
    attemptsMade: job.attemptsMade,
    error: job.failedReason ? job.failedReason.slice(0, 1000) : null,
    enqueuedAt: job.timestamp ? new Date(job.timestamp) : null,
    failedAt: job.finishedOn ? new Date(job.finishedOn) : null,
  };
}

interface Kept {
  letter: DeadLetter;
  retry: () => void;
}

/** In-process driver: the failures of this process, newest first, at most 1 000 (lost on restart). */
@Injectable()
export class InProcessDeadLetters extends DeadLetters {
  private readonly kept = new Map<string, Kept>();

  get size(): number {
    return this.kept.size;
  }

  /** Called by the in-process queue when a job has used its attempts. */
  record<TPayload>(
    definition: JobDefinition<TPayload>,
    id: string,
    attemptsMade: number,
    error: unknown,
    enqueuedAt: Date,
    retry: () => void,
  ): void {
    this.kept.delete(id);
    this.kept.set(id, {
      letter: {
        id,
        name: definition.name,
        queue: definition.queue,
        attemptsMade,
        error: (error instanceof Error ? error.message : String(error)).slice(0, 1000),
        enqueuedAt,
        failedAt: new Date(),
      },
      retry,
    });
    if (this.kept.size > MAX_LISTED) this.kept.delete(this.kept.keys().next().value as string);
  }

  list(offset: number, limit: number): Promise<{ items: DeadLetter[]; total: number }> {
    const newestFirst = [...this.kept.values()].reverse().map(({ letter }) => letter);
    return Promise.resolve({ items: newestFirst.slice(offset, offset + limit), total: newestFirst.length });
  }

  get(id: string): Promise<DeadLetter | undefined> {
    return Promise.resolve(this.kept.get(id)?.letter);
  }

  retry(id: string): Promise<DeadLetter | undefined> {
    const kept = this.kept.get(id);
    if (!kept) return Promise.resolve(undefined);
    this.kept.delete(id);
    kept.retry();
    return Promise.resolve(kept.letter);
  }

  discard(id: string): Promise<DeadLetter | undefined> {
    const kept = this.kept.get(id);
    this.kept.delete(id);
    return Promise.resolve(kept?.letter);
  }
}
