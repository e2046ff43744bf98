import { defineJob, JobProcessor, type JobContext, type JobHandler } from '@app/queue';
import { Injectable, Module } from '@nestjs/common';

export interface FlakyPayload {
  label: string;
}

/** A job for tests of retries and dead letters: fails while `FlakyJobState.failing` holds. */
export const FlakyJob = defineJob<FlakyPayload>('test.flaky', { attempts: 2, backoffMs: 10 });

export const FlakyJobState = {
  failing: true,
  /** Every run: label, attempt, and the BullMQ job's id when the worker ran it (null in process). */
  runs: [] as Array<{ label: string; attempt: number; id: string; bullmq: string | null }>,
};

@Injectable()
@JobProcessor(FlakyJob)
export class FlakyJobProcessor implements JobHandler<FlakyPayload> {
  handle(payload: FlakyPayload, context: JobContext): Promise<void> {
    FlakyJobState.runs.push({
      label: payload.label,
      attempt: context.attempt,
      id: context.id,
      bullmq: context.job?.id ?? null,
    });
    if (FlakyJobState.failing) return Promise.reject(new Error(`flaky job ${payload.label} failed on purpose`));
    return Promise.resolve();
  }
}

@Module({ providers: [FlakyJobProcessor] })
export class FlakyJobModule {}
