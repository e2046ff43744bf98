import { AuditService } from '@app/audit';
import { TenantTransaction } from '@app/database';
import { JobProcessor, type JobHandler } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { OrganizationPurgeJob } from './organization-purge.job';

/**
 * Purges the organizations whose grace period is over: each one in its own transaction, with its
 * `organization.delete` audit row (which names who scheduled it) written in that transaction. The
 * organization's rows go with it (foreign keys cascade); its audit log stays, as history.
 */
@Injectable()
@JobProcessor(OrganizationPurgeJob)
export class OrganizationPurgeProcessor implements JobHandler<Record<string, never>> {
  private readonly logger = new Logger('OrganizationPurge');

  constructor(
    private readonly transactions: TenantTransaction,
    private readonly audit: AuditService,
  ) {}

  async handle(): Promise<void> {
    const due = await this.transactions.runAsSystem((manager) =>
      manager.query<Array<{ id: string }>>(
        'SELECT id FROM organizations WHERE deletion_scheduled_for <= now() ORDER BY deletion_scheduled_for LIMIT 100',
      ),
    );
    for (const { id } of due) {
      await this.transactions.run(id, async (manager) => {
        // Still due (an owner may have restored it since the list was read).
        const rows = await manager.query<Array<{ deletion_requested_by: string | null }>>(
          'SELECT deletion_requested_by FROM organizations WHERE id = $1 AND deletion_scheduled_for <= now() FOR UPDATE',
          [id],
        );
        const row = rows[0];
        if (!row) return;
        await this.audit.record(
          {
            action: 'organization.delete',
            outcome: 'success',
            organizationId: id,
            actorType: 'system',
            targetType: 'organization',
            targetId: id,
            metadata: { requestedBy: row.deletion_requested_by, after: 'grace-period' },
          },
          manager,
        );
        await manager.query('DELETE FROM organizations WHERE id = $1', [id]);
      });
    }
    if (due.length > 0) this.logger.log(`purged ${due.length} organization(s) past their grace period`);
  }
}
