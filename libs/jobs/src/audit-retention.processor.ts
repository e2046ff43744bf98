import { AuditService } from '@app/audit';
import { AppConfig } from '@app/config';
import { TenantTransaction } from '@app/database';
import { JobProcessor, type JobHandler } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { AuditRetentionJob } from './audit-retention.job';

@Injectable()
@JobProcessor(AuditRetentionJob)
export class AuditRetentionProcessor implements JobHandler<Record<string, never>> {
  private readonly logger = new Logger('AuditRetention');

  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly audit: AuditService,
  ) {}

  async handle(): Promise<void> {
    const days = this.config.auditRetention.days;
    if (!days) return;
    const removed = await this.transactions.runAsSystem(async (manager) => {
      const [row] = await manager.query<Array<{ removed: string }>>('SELECT audit_log_prune($1) AS removed', [days]);
      const count = Number(row?.removed ?? 0);
      // The security-event stream is kept as long as the audit log it points into.
      const [events] = await manager.query<Array<{ removed: string }>>(
        `WITH gone AS (DELETE FROM security_events WHERE window_start < now() - make_interval(days => $1) RETURNING 1)
         SELECT count(*) AS removed FROM gone`,
        [days],
      );
      // The installation's own chain records each pruning, in the same transaction.
      await this.audit.record(
        {
          action: 'audit.retention',
          outcome: 'success',
          targetType: 'audit-log',
          metadata: { days, removed: count, securityEventsRemoved: Number(events?.removed ?? 0) },
        },
        manager,
      );
      return count;
    });
    this.logger.log(`removed ${removed} audit rows older than ${days} days`);
  }
}
