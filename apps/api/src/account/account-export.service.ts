import { AuditService } from '@app/audit';
import { sha256, type UserPrincipal } from '@app/auth';
import { ProblemException } from '@app/common';
import { AccountExport, TenantTransaction } from '@app/database';
import { AccountExportJob, OrganizationExportJob, STILL_OWNER_SQL } from '@app/jobs';
import { Outbox } from '@app/queue';
import { HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AccountExportDto } from './dto/account-export.dto';

function toDto(row: AccountExport): AccountExportDto {
  return {
    id: row.id,
    status: row.status,
    createdAt: row.createdAt,
    completedAt: row.completedAt,
    expiresAt: row.expiresAt,
    downloadedAt: row.downloadedAt,
  };
}

/**
 * A person's copy of their own data (GDPR art. 15 and 20): requested through the api, built by the
 * `account.export` job, mailed as a single-use link to the account's address (so a stolen access
 * token alone does not get the data), downloaded once, then dropped. Archives past their time are
 * dropped whenever exports are requested or downloaded.
 */
@Injectable()
export class AccountExportService {
  constructor(
    private readonly transactions: TenantTransaction,
    private readonly outbox: Outbox,
    private readonly audit: AuditService,
  ) {}

  /** One export at a time: while one is being built, asking again answers that one. */
  async request(principal: UserPrincipal): Promise<AccountExportDto> {
    return this.transactions.runAsSystem(async (manager) => {
      await this.expireOld(manager);
      await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`export:${principal.userId}`]);
      const pending = await manager.findOneBy(AccountExport, { userId: principal.userId, status: 'pending' });
      if (pending) return toDto(pending);
      const row = manager.create(AccountExport, { userId: principal.userId, status: 'pending' });
      await manager.insert(AccountExport, row);
      await this.outbox.add(manager, AccountExportJob, { exportId: row.id });
      await this.audit.record(
        {
          action: 'user.export.request',
          outcome: 'success',
          actorId: principal.userId,
          targetType: 'user',
          targetId: principal.userId,
          metadata: { exportId: row.id },
        },
        manager,
      );
      return toDto(await manager.findOneByOrFail(AccountExport, { id: row.id }));
    });
  }

  /**
   * An organization's export, asked for by an owner and mailed to them; like a person's own, one
   * at a time (per organization).
   */
  async requestForOrganization(principal: UserPrincipal, orgId: string): Promise<AccountExportDto> {
    return this.transactions.runAsSystem(async (manager) => {
      await this.expireOld(manager);
      await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`export:org:${orgId}`]);
      const pending = await manager.findOneBy(AccountExport, { organizationId: orgId, status: 'pending' });
      if (pending) return toDto(pending);
      const row = manager.create(AccountExport, { userId: principal.userId, organizationId: orgId, status: 'pending' });
      await manager.insert(AccountExport, row);
      await this.outbox.add(manager, OrganizationExportJob, { exportId: row.id });
      await this.audit.record(
        {
          action: 'organization.export.request',
          outcome: 'success',
          organizationId: orgId,
          actorId: principal.userId,
          targetType: 'organization',
          targetId: orgId,
          metadata: { exportId: row.id },
        },
        manager,
      );
      return toDto(await manager.findOneByOrFail(AccountExport, { id: row.id }));
    });
  }

  async organizationStatus(orgId: string, id: string): Promise<AccountExportDto> {
    const row = await this.transactions.runAsSystem(async (manager) => {
      await this.expireOld(manager);
      return manager.findOneBy(AccountExport, { id, organizationId: orgId });
    });
    if (!row) throw new NotFoundException('No such export.');
    return toDto(row);
  }

  async status(principal: UserPrincipal, id: string): Promise<AccountExportDto> {
    const row = await this.transactions.runAsSystem(async (manager) => {
      await this.expireOld(manager);
      return manager.findOneBy(AccountExport, { id, userId: principal.userId });
    });
    if (!row) throw new NotFoundException('No such export.');
    return toDto(row);
  }

  /** The archive, once: the token dies with this call, and so does the stored copy. */
  async download(token: string): Promise<{ archive: unknown; createdAt: Date }> {
    const found = await this.transactions.runAsSystem(async (manager) => {
      await this.expireOld(manager);
      const row = await manager.findOne(AccountExport, {
        where: { tokenHash: sha256(token), status: 'ready' },
        lock: { mode: 'pessimistic_write' },
      });
      if (!row?.archive) return undefined;
      // An organization's export goes only to someone who is still its owner (a link outlives no access).
      if (row.organizationId) {
        const owner = await manager.query<unknown[]>(STILL_OWNER_SQL, [row.organizationId, row.userId]);
        if (owner.length === 0) {
          await manager.update(AccountExport, { id: row.id }, { status: 'cancelled', archive: null, tokenHash: null });
          return undefined;
        }
      }
      await manager.update(
        AccountExport,
        { id: row.id },
        { status: 'downloaded', archive: null, tokenHash: null, downloadedAt: new Date() },
      );
      await this.audit.record(
        row.organizationId
          ? {
              action: 'organization.export.download',
              outcome: 'success',
              organizationId: row.organizationId,
              actorId: row.userId,
              targetType: 'organization',
              targetId: row.organizationId,
              metadata: { exportId: row.id },
            }
          : {
              action: 'user.export.download',
              outcome: 'success',
              actorId: row.userId,
              targetType: 'user',
              targetId: row.userId,
              metadata: { exportId: row.id },
            },
        manager,
      );
      return { archive: JSON.parse(row.archive) as unknown, createdAt: row.createdAt };
    });
    if (!found) {
      await this.audit.record({
        action: 'user.export.download',
        outcome: 'failure',
        metadata: { reason: 'unknown_used_or_expired' },
      });
      throw new ProblemException({
        status: HttpStatus.GONE,
        slug: 'export-link-invalid',
        title: 'Gone',
        detail: 'This download link is used, expired or unknown: ask for a new export.',
      });
    }
    return found;
  }

  private async expireOld(manager: EntityManager): Promise<void> {
    await manager.query(
      `UPDATE account_exports SET status = 'expired', archive = NULL, token_hash = NULL
        WHERE status = 'ready' AND expires_at <= now()`,
    );
  }
}
