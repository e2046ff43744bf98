import { Metrics, newId } from '@app/common';
import { untraced } from '@app/telemetry';
import { OutboxMessage, TenantTransaction } from '@app/database';
import {
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { jobDefinition, type JobDefinition } from './job-definition';
import { JobQueue } from './job-queue';

const BATCH = 50;
const POLL_MS = 1_000;
/** A claimed row is someone's for this long; then another relay (or this one) tries again. */
const LEASE_SECONDS = 30;
const MAX_BACKOFF_SECONDS = 300;

/**
 * Publishes committed outbox rows to the queue: right after each commit that wrote one (a nudge),
 * every second, and at start-up for anything left over. Rows are claimed with a lease
 * (`FOR UPDATE SKIP LOCKED`, so several replicas share the work) and published with the row id as
 * the job id, so a second publication of the same row is the same job, never a duplicate.
 * While the queue is unreachable rows wait, with backoff, and nothing is lost.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('OutboxRelay');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly transactions: TenantTransaction,
    private readonly queue: JobQueue,
    @Optional() metrics?: Metrics,
  ) {
    // How long the oldest due message has waited to be published (0 when none waits): a relay
    // that stopped, or a queue that refuses, shows as a growing lag (deploy/prometheus/alerts.yaml).
    metrics?.asyncGauge(
      'outbox_oldest_due_seconds',
      'Age of the oldest outbox message due and not yet published, in seconds.',
      [],
      async () => {
        const [row] = await this.transactions.runAsSystem((manager) =>
          manager.query<Array<{ seconds: number | null }>>(
            `SELECT extract(epoch FROM now() - min(available_at))::float8 AS seconds
               FROM outbox WHERE published_at IS NULL AND available_at <= now()`,
          ),
        );
        return [[{}, Math.max(0, Number(row?.seconds ?? 0))]];
      },
    );
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.nudge(), POLL_MS);
    this.timer.unref();
    this.nudge();
  }

  /** Before the shutdown hooks, which end the queue's shared connection: the last drain still publishes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Publishes what is due now (coalesces concurrent calls). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    // Not part of the trace of the request whose commit nudged it.
    this.running = untraced(() => this.drain()).finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.nudge();
      }
    });
  }

  /** Resolves once nothing due is left (tests use it). */
  async flush(): Promise<void> {
    this.nudge();
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        const rows = await this.claim();
        for (const row of rows) await this.publish(row);
        if (rows.length < BATCH || this.stopped) return;
      }
    } catch (error) {
      this.logger.warn(`outbox relay: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private claim(): Promise<OutboxMessage[]> {
    return this.transactions.runAsSystem(async (manager) => {
      const rows = await manager.query<
        Array<{ id: string; job_name: string; payload: Record<string, unknown>; publish_attempts: number }>
      >(
        // A CTE so the driver returns the rows (a bare UPDATE ... RETURNING comes back as [rows, count]).
        `WITH claimed AS (
           UPDATE outbox SET available_at = now() + make_interval(secs => $2), publish_attempts = publish_attempts + 1
            WHERE id IN (SELECT id FROM outbox WHERE published_at IS NULL AND available_at <= now()
                          ORDER BY available_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING id, job_name, payload, publish_attempts)
         SELECT * FROM claimed`,
        [BATCH, LEASE_SECONDS],
      );
      return rows.map((row) =>
        Object.assign(new OutboxMessage(), {
          id: row.id,
          jobName: row.job_name,
          payload: row.payload,
          publishAttempts: row.publish_attempts,
        }),
      );
    });
  }

  private async publish(row: OutboxMessage): Promise<void> {
    const definition = jobDefinition(row.jobName);
    try {
      if (!definition) throw new Error(`unknown job ${row.jobName}`);
      await this.queue.enqueue(definition, row.payload, { jobId: row.id });
      await this.transactions.runAsSystem((manager) =>
        manager.update(OutboxMessage, { id: row.id }, { publishedAt: new Date(), lastError: null }),
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const delay = Math.min(MAX_BACKOFF_SECONDS, 2 ** Math.min(row.publishAttempts, 9));
      this.logger.warn(`outbox ${row.id} (${row.jobName}) not published, retry in ${delay} s: ${reason}`);
      await this.transactions
        .runAsSystem((manager) =>
          manager.query(
            `UPDATE outbox SET last_error = $2, available_at = now() + make_interval(secs => $3) WHERE id = $1`,
            [row.id, reason.slice(0, 1000), delay],
          ),
        )
        .catch(() => undefined);
    }
  }
}

/** Where use cases put jobs: in their own transaction, published only once it commits. */
@Injectable()
export class Outbox {
  constructor(
    private readonly transactions: TenantTransaction,
    private readonly relay: OutboxRelay,
  ) {}

  /** Writes the job into the caller's unit of work; returns its id (also the job id). */
  async add<TPayload>(
    manager: EntityManager,
    definition: JobDefinition<TPayload>,
    payload: TPayload,
    options: { organizationId?: string | null; delayMs?: number } = {},
  ): Promise<string> {
    const id = newId();
    await manager.insert(OutboxMessage, {
      id,
      jobName: definition.name,
      payload: payload as Record<string, unknown>,
      organizationId: options.organizationId ?? null,
      availableAt: new Date(Date.now() + (options.delayMs ?? 0)),
      publishedAt: null,
      publishAttempts: 0,
      lastError: null,
    } as never);
    this.transactions.afterCommit(() => this.relay.nudge());
    return id;
  }
}
