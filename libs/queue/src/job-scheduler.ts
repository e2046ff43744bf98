import { AppConfig } from '@app/config';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CronExpressionParser } from 'cron-parser';
import { BullMqJobQueue } from './bullmq-job-queue';
import type { JobDefinition } from './job-definition';
import { JobQueue } from './job-queue';
import { ProcessorRegistry } from './processor-registry';

/** A job that runs on a schedule: its cron expression (UTC) comes from the configuration. */
export interface JobSchedule {
  definition: JobDefinition<Record<string, never>>;
  /** A 5-field cron expression, or undefined to not run it at all. */
  cron: (config: AppConfig) => string | undefined;
}

const SCHEDULES: JobSchedule[] = [];

/** Declares a scheduled job (next to its definition); the JobScheduler of each app runs it. */
export function scheduleJob(
  definition: JobDefinition<Record<string, never>>,
  cron: (config: AppConfig) => string | undefined,
): void {
  if (!SCHEDULES.some((schedule) => schedule.definition.name === definition.name)) {
    SCHEDULES.push({ definition, cron });
  }
}

/** The next time a cron expression fires after `from`, in UTC. */
export function nextRun(cron: string, from: Date = new Date()): Date {
  return CronExpressionParser.parse(cron, { currentDate: from, tz: 'UTC' }).next().toDate();
}

/**
 * Runs the scheduled jobs whose processors this application has. With Redis, BullMQ's job
 * schedulers (one per job, upserted by every replica, so exactly one job per tick however many
 * processes run); without, a timer in the process.
 */
@Injectable()
export class JobScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('JobScheduler');
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly upcoming = new Map<string, Date>();
  private readonly pending: Array<Promise<void>> = [];

  constructor(
    private readonly config: AppConfig,
    private readonly jobs: JobQueue,
    private readonly registry: ProcessorRegistry,
  ) {}

  onApplicationBootstrap(): void {
    for (const { definition, cron } of SCHEDULES) {
      if (!this.registry.get(definition.name)) continue;
      const expression = cron(this.config);
      if (this.jobs instanceof BullMqJobQueue) {
        // Not awaited: BullMQ waits for Redis, and an app must start (and serve) while Redis is away.
        this.pending.push(this.scheduleInRedis(this.jobs, definition, expression));
      } else if (expression) {
        this.scheduleInProcess(definition, expression);
      }
    }
  }

  /** Resolves once the Redis schedules are written (tests wait for it). */
  async settled(): Promise<void> {
    await Promise.allSettled(this.pending);
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** When a job runs next, from this process's timers (in-process driver); tests and logs read it. */
  next(name: string): Date | undefined {
    return this.upcoming.get(name);
  }

  private async scheduleInRedis(
    jobs: BullMqJobQueue,
    definition: JobDefinition<Record<string, never>>,
    expression: string | undefined,
  ): Promise<void> {
    const queue = jobs.queue(definition.queue);
    try {
      if (!expression) {
        await queue.removeJobScheduler(definition.name);
        return;
      }
      await queue.upsertJobScheduler(
        definition.name,
        { pattern: expression, tz: 'UTC' },
        {
          name: definition.name,
          data: {},
          opts: { attempts: definition.attempts, backoff: { type: 'jittered', delay: definition.backoffMs } },
        },
      );
    } catch (error) {
      // Redis away at start: the next replica (or restart) to start sets it; nothing else depends on it.
      this.logger.warn(
        `could not schedule ${definition.name}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private scheduleInProcess(definition: JobDefinition<Record<string, never>>, expression: string): void {
    const at = nextRun(expression);
    this.upcoming.set(definition.name, at);
    // Timers cannot wait longer than ~24.8 days; re-plan on the way if the run is further out.
    const wait = Math.min(at.getTime() - Date.now(), 2 ** 31 - 1);
    const timer = setTimeout(
      () => {
        if (Date.now() >= at.getTime() - 1_000) {
          this.jobs
            .enqueue(definition, {}, { jobId: `${definition.name}:${at.toISOString()}` })
            .catch((error: unknown) =>
              this.logger.warn(
                `could not run ${definition.name}: ${error instanceof Error ? error.message : String(error)}`,
              ),
            );
        }
        this.scheduleInProcess(definition, expression);
      },
      Math.max(0, wait),
    );
    timer.unref();
    this.timers.set(definition.name, timer);
  }
}
