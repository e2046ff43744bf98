import { AuditService } from '@app/audit';
import { AppConfig } from '@app/config';
import { AccountExport, TenantTransaction, User } from '@app/database';
import { accountExportMail } from '@app/mail';
import { JobProcessor, Outbox, type JobHandler } from '@app/queue';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AccountExportJob, type AccountExportPayload } from './account-export.job';
import { deliverExport } from './export-delivery';

/** The archive's format; a reader checks it before anything else. */
export const ACCOUNT_EXPORT_FORMAT = 'saas-account-export/1';

/**
 * Gathers what the installation holds about one person, as one JSON document: the profile,
 * memberships with roles and teams, sessions, linked identities, passkeys (metadata), API keys
 * they created (metadata, never a secret) and the audit rows about them. Stores it with the hash of
 * a download token and mails the link, in one transaction. An account erased (or gone) since the
 * request gets nothing built: the export is cancelled, so no job brings back erased data.
 */
@Injectable()
@JobProcessor(AccountExportJob)
export class AccountExportProcessor implements JobHandler<AccountExportPayload> {
  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly outbox: Outbox,
    private readonly audit: AuditService,
  ) {}

  async handle({ exportId }: AccountExportPayload): Promise<void> {
    await this.transactions.runAsSystem(async (manager) => {
      const pending = await manager.findOne(AccountExport, {
        where: { id: exportId },
        lock: { mode: 'pessimistic_write' },
      });
      if (pending?.status !== 'pending') return;
      const user = await manager.findOneBy(User, { id: pending.userId });
      if (!user || user.erasedAt) {
        await manager.update(AccountExport, { id: exportId }, { status: 'cancelled', completedAt: new Date() });
        return;
      }
      const archive = await this.gather(manager, user);
      await deliverExport(
        { config: this.config, audit: this.audit, outbox: this.outbox },
        manager,
        exportId,
        archive,
        {
          action: 'user.export.ready',
          outcome: 'success',
          actorId: user.id,
          targetType: 'user',
          targetId: user.id,
          metadata: { exportId, auditRows: archive.auditLog.length },
        },
        (link, hours) => accountExportMail(this.config.appName, user, link, hours),
      );
    });
  }

  private async gather(manager: EntityManager, user: User) {
    const q = <T>(sql: string) => manager.query<T[]>(sql, [user.id]);
    // One after another: the statements share the transaction's one connection.
    const memberships = await q<Record<string, unknown>>(
      `SELECT o.id AS "organizationId", o.name AS "organizationName", m.created_at AS "joinedAt",
                coalesce(array_agg(r.name ORDER BY r.name) FILTER (WHERE r.id IS NOT NULL), '{}') AS roles
           FROM organization_members m JOIN organizations o ON o.id = m.organization_id
           LEFT JOIN role_assignments ra ON ra.organization_id = m.organization_id AND ra.user_id = m.user_id AND ra.team_id IS NULL
           LEFT JOIN roles r ON r.id = ra.role_id
          WHERE m.user_id = $1 GROUP BY o.id, o.name, m.created_at ORDER BY o.name`,
    );
    const teams = await q<Record<string, unknown>>(
      `SELECT t.id AS "teamId", t.name AS "teamName", t.organization_id AS "organizationId", tm.created_at AS "joinedAt"
           FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE tm.user_id = $1 ORDER BY t.name`,
    );
    const sessions = await q<Record<string, unknown>>(
      `SELECT id, auth_method AS "authMethod", ip, user_agent AS "userAgent", created_at AS "createdAt",
                last_used_at AS "lastUsedAt", expires_at AS "expiresAt", revoked_at AS "revokedAt",
                impersonator_id AS "impersonatorId", impersonation_reason AS "impersonationReason"
           FROM sessions WHERE user_id = $1 ORDER BY created_at`,
    );
    const identities = await q<Record<string, unknown>>(
      `SELECT provider, email, email_verified AS "emailVerified", created_at AS "linkedAt", last_used_at AS "lastUsedAt"
           FROM oauth_accounts WHERE user_id = $1 ORDER BY created_at`,
    );
    const passkeys = await q<Record<string, unknown>>(
      `SELECT name, device_type AS "deviceType", backed_up AS "backedUp", aaguid, created_at AS "createdAt",
                last_used_at AS "lastUsedAt" FROM passkeys WHERE user_id = $1 ORDER BY created_at`,
    );
    const apiKeys = await q<Record<string, unknown>>(
      `SELECT id, organization_id AS "organizationId", name, prefix, permissions, created_at AS "createdAt",
                expires_at AS "expiresAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"
           FROM api_keys WHERE created_by_user_id = $1 ORDER BY created_at`,
    );
    const auditLog = await q<Record<string, unknown>>(
      `SELECT id, occurred_at AS "occurredAt", organization_id AS "organizationId", actor_type AS "actorType",
                actor_id AS "actorId", action, target_type AS "targetType", target_id AS "targetId", outcome,
                -- Someone else's address and agent, on rows about this person, are not theirs to take.
                CASE WHEN actor_id = $1 THEN ip END AS ip, CASE WHEN actor_id = $1 THEN user_agent END AS "userAgent",
                metadata, impersonator_id AS "impersonatorId"
           FROM audit_logs WHERE actor_id = $1 OR target_id = $1::text ORDER BY occurred_at, id`,
    );
    return {
      format: ACCOUNT_EXPORT_FORMAT,
      exportedAt: new Date().toISOString(),
      profile: {
        id: user.id,
        email: user.email,
        fullName: user.fullName,
        emailVerifiedAt: user.emailVerifiedAt,
        createdAt: user.createdAt,
        lastLoginAt: user.lastLoginAt,
        mfaEnabled: user.mfaEnabled,
        isPlatformAdmin: user.isPlatformAdmin,
      },
      memberships,
      teams,
      sessions,
      identities,
      passkeys,
      apiKeys,
      auditLog,
    };
  }
}
