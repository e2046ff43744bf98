import type { EnqueueOptions, JobDefinition } from './job-definition';

/** Where use cases send jobs. BullMQ when REDIS_URL is set, in-process otherwise. */
export abstract class JobQueue {
  abstract readonly driver: 'bullmq' | 'in-process';
  /** Returns the job id. */
  abstract enqueue<TPayload>(
    definition: JobDefinition<TPayload>,
    payload: TPayload,
    options?: EnqueueOptions,
  ): Promise<string>;
}
