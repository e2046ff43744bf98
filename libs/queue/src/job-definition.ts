import type { Job } from 'bullmq';
/**
 * A job contract: a name, its retry policy and (at the type level) its payload.
 * Enqueuers and processors share the definition object, so their payload types cannot drift.
 */
export interface JobDefinition<TPayload> {
  readonly name: string;
  readonly queue: string;
  readonly attempts: number;
  /** First retry delay; each further retry doubles it (with jitter). */
  readonly backoffMs: number;
  /** Phantom field carrying the payload type; never set at run time. */
  readonly payloadType?: TPayload;
}

export const DEFAULT_QUEUE = 'default';

const DEFINITIONS = new Map<string, JobDefinition<unknown>>();

export function defineJob<TPayload>(
  name: string,
  options: { queue?: string; attempts?: number; backoffMs?: number } = {},
): JobDefinition<TPayload> {
  const definition: JobDefinition<TPayload> = {
    name,
    queue: options.queue ?? DEFAULT_QUEUE,
    attempts: options.attempts ?? 3,
    backoffMs: options.backoffMs ?? 1_000,
  };
  const known = DEFINITIONS.get(name);
  if (known && (known.queue !== definition.queue || known.attempts !== definition.attempts)) {
    throw new Error(`job ${name} is defined twice, differently`);
  }
  DEFINITIONS.set(name, definition);
  return definition;
}

/** Every job defined so far (by the modules loaded). */
export function definedJobs(): Array<JobDefinition<unknown>> {
  return [...DEFINITIONS.values()];
}

/** The queues of every job definition loaded so far (modules define their jobs when imported), and `default`. */
export function frameworkQueues(): string[] {
  return [...new Set([DEFAULT_QUEUE, ...definedJobs().map((job) => job.queue)])];
}

/** The definition of a job by name (the outbox stores names). */
export function jobDefinition(name: string): JobDefinition<unknown> | undefined {
  return DEFINITIONS.get(name);
}

export interface JobContext {
  /** Stable id of the job; the dedupe key for idempotent processors. */
  id: string;
  /** 1 for the first run, 2 for the first retry, ... */
  attempt: number;
  /**
   * The BullMQ job when the worker runs it (progress with `updateProgress`, lines with `log`);
   * undefined when the job runs in the api's process (the embedded default, no Redis).
   */
  job?: Job;
}

export interface JobHandler<TPayload> {
  handle(payload: TPayload, context: JobContext): Promise<void>;
}

export interface EnqueueOptions {
  /** Same id, same job: a second enqueue with it is ignored. */
  jobId?: string;
  delayMs?: number;
}

/** Exponential backoff with full jitter: a random delay in [base, base * 2^(attempt-1)]. */
export function retryDelayMs(backoffMs: number, attempt: number, random: () => number = Math.random): number {
  const ceiling = backoffMs * 2 ** Math.max(0, attempt - 1);
  return Math.round(backoffMs + random() * (ceiling - backoffMs));
}
