import { AuditService } from '@app/audit';
import { AppConfig } from '@app/config';
import { AccountExport, Organization, TenantTransaction, User } from '@app/database';
import { organizationExportMail } from '@app/mail';
import { JobProcessor, Outbox, type JobHandler } from '@app/queue';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OrganizationExportJob, type OrganizationExportPayload } from './organization-export.job';
import { deliverExport } from './export-delivery';

export const ORGANIZATION_EXPORT_FORMAT = 'saas-organization-export/1';

/** Whether the person still holds organizations:delete (owners) in the organization. */
export const STILL_OWNER_SQL = `
  SELECT 1 FROM role_assignments ra
    JOIN role_permissions rp ON rp.role_id = ra.role_id AND rp.permission_key = 'organizations:delete'
    JOIN users u ON u.id = ra.user_id AND u.is_active
   WHERE ra.organization_id = $1 AND ra.user_id = $2 AND ra.team_id IS NULL
   LIMIT 1`;

/**
 * Gathers one organization's data as one JSON document: the organization, its members (with
 * addresses and roles), teams and their members, custom roles, projects, invitations, and the
 * metadata of its API keys, webhook endpoints, SSO connections and domains (never a secret, a
 * signing key or a token), and its audit log. Stored with the hash of a single-use token and
 * mailed to the owner who asked, in one transaction, but only while that person is still an owner.
 */
@Injectable()
@JobProcessor(OrganizationExportJob)
export class OrganizationExportProcessor implements JobHandler<OrganizationExportPayload> {
  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly outbox: Outbox,
    private readonly audit: AuditService,
  ) {}

  async handle({ exportId }: OrganizationExportPayload): Promise<void> {
    await this.transactions.runAsSystem(async (manager) => {
      const pending = await manager.findOne(AccountExport, {
        where: { id: exportId },
        lock: { mode: 'pessimistic_write' },
      });
      if (pending?.status !== 'pending' || !pending.organizationId) return;
      const orgId = pending.organizationId;
      const organization = await manager.findOneBy(Organization, { id: orgId });
      const owner = await manager.findOneBy(User, { id: pending.userId });
      const stillOwner = await manager.query<unknown[]>(STILL_OWNER_SQL, [orgId, pending.userId]);
      if (!organization || !owner || owner.erasedAt || stillOwner.length === 0) {
        await manager.update(AccountExport, { id: exportId }, { status: 'cancelled', completedAt: new Date() });
        return;
      }
      const archive = await this.gather(manager, organization);
      await deliverExport(
        { config: this.config, audit: this.audit, outbox: this.outbox },
        manager,
        exportId,
        archive,
        {
          action: 'organization.export.ready',
          outcome: 'success',
          organizationId: orgId,
          actorId: owner.id,
          targetType: 'organization',
          targetId: orgId,
          metadata: { exportId, members: archive.members.length, auditRows: archive.auditLog.length },
        },
        (link, hours) => organizationExportMail(this.config.appName, owner, organization.name, link, hours),
      );
    });
  }

  private async gather(manager: EntityManager, organization: Organization) {
    const q = (sql: string) => manager.query<Array<Record<string, unknown>>>(sql, [organization.id]);
    // One after another: the statements share the transaction's one connection.
    const members = await q(
      `SELECT u.id AS "userId", u.email, u.full_name AS "fullName", m.created_at AS "joinedAt",
              coalesce(array_agg(r.name ORDER BY r.name) FILTER (WHERE r.id IS NOT NULL), '{}') AS roles
         FROM organization_members m JOIN users u ON u.id = m.user_id
         LEFT JOIN role_assignments ra ON ra.organization_id = m.organization_id AND ra.user_id = m.user_id AND ra.team_id IS NULL
         LEFT JOIN roles r ON r.id = ra.role_id
        WHERE m.organization_id = $1 GROUP BY u.id, u.email, u.full_name, m.created_at ORDER BY u.email`,
    );
    const teams = await q(
      `SELECT t.id, t.name, t.slug, t.description, t.created_at AS "createdAt",
              coalesce(array_agg(tm.user_id ORDER BY tm.user_id) FILTER (WHERE tm.user_id IS NOT NULL), '{}') AS "memberIds"
         FROM teams t LEFT JOIN team_members tm ON tm.team_id = t.id
        WHERE t.organization_id = $1 GROUP BY t.id ORDER BY t.name`,
    );
    const roles = await q(
      `SELECT r.id, r.name, r.description, r.scope,
              coalesce(array_agg(rp.permission_key ORDER BY rp.permission_key) FILTER (WHERE rp.permission_key IS NOT NULL), '{}') AS permissions
         FROM roles r LEFT JOIN role_permissions rp ON rp.role_id = r.id
        WHERE r.organization_id = $1 GROUP BY r.id ORDER BY r.name`,
    );
    const projects = await q(
      `SELECT id, team_id AS "teamId", name, description, status, created_by AS "createdBy", created_at AS "createdAt"
         FROM projects WHERE organization_id = $1 ORDER BY created_at`,
    );
    const invitations = await q(
      `SELECT id, email, role_ids AS "roleIds", invited_by_user_id AS "invitedBy", created_at AS "createdAt",
              expires_at AS "expiresAt", accepted_at AS "acceptedAt"
         FROM invitations WHERE organization_id = $1 ORDER BY created_at`,
    );
    const apiKeys = await q(
      `SELECT id, name, prefix, permissions, created_by_user_id AS "createdBy", created_at AS "createdAt",
              expires_at AS "expiresAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"
         FROM api_keys WHERE organization_id = $1 ORDER BY created_at`,
    );
    const webhookEndpoints = await q(
      `SELECT id, url, description, event_types AS "eventTypes", enabled, created_at AS "createdAt"
         FROM webhook_endpoints WHERE organization_id = $1 ORDER BY created_at`,
    );
    const ssoConnections = await q(
      `SELECT id, type, name, enabled, idp_entity_id AS "idpEntityId", oidc_issuer AS "oidcIssuer",
              created_at AS "createdAt"
         FROM sso_connections WHERE organization_id = $1 ORDER BY created_at`,
    );
    const domains = await q(
      `SELECT domain, verified_at AS "verifiedAt", created_at AS "createdAt"
         FROM organization_domains WHERE organization_id = $1 ORDER BY domain`,
    );
    const auditLog = await q(
      `SELECT id, occurred_at AS "occurredAt", actor_type AS "actorType", actor_id AS "actorId",
              impersonator_id AS "impersonatorId", action, target_type AS "targetType", target_id AS "targetId",
              outcome, ip, user_agent AS "userAgent", metadata, chain_seq AS "chainSeq", hash
         FROM audit_logs WHERE organization_id = $1 ORDER BY chain_seq`,
    );
    return {
      format: ORGANIZATION_EXPORT_FORMAT,
      exportedAt: new Date().toISOString(),
      organization: {
        id: organization.id,
        name: organization.name,
        slug: organization.slug,
        createdAt: organization.createdAt,
      },
      members,
      teams,
      roles,
      projects,
      invitations,
      apiKeys,
      webhookEndpoints,
      ssoConnections,
      domains,
      auditLog,
    };
  }
}
