import { AuditService, type AuditActor } from '@app/audit';
import { ApiKeyRegistry, auditActor, generateApiKey, type Principal, type UserPrincipal } from '@app/auth';
import { newId, ValidationProblemException } from '@app/common';
import { ApiKey, TenantTransaction } from '@app/database';
import { grantableToApiKeys, isPermissionKey, permissionDenied, PermissionResolver } from '@app/rbac';
import { Injectable, NotFoundException } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Page, Slice } from '../common/page-query.dto';
import { findShown } from '../common/shown-fields';
import { API_KEY_SHOWN, ApiKeyDto, type CreateApiKeyDto, type CreatedApiKeyDto } from './dto/api-key.dto';

/**
 * Organization API keys. The secret is returned once, at creation, and stored as its SHA-256.
 * A key's permissions must be grantable to keys and held by its creator; at each request the key
 * is further limited to what its creator still holds (see AuthorizationGuard).
 */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly transactions: TenantTransaction,
    private readonly permissions: PermissionResolver,
    private readonly registry: ApiKeyRegistry,
    private readonly audit: AuditService,
  ) {}

  async create(actor: UserPrincipal, orgId: string, dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const invalid = dto.permissions.flatMap((key) =>
      !isPermissionKey(key)
        ? [{ field: 'permissions', message: `${key} is not a permission` }]
        : !grantableToApiKeys(key)
          ? [{ field: 'permissions', message: `${key} manages access and is for people only, not API keys` }]
          : [],
    );
    if (dto.expiresAt && dto.expiresAt.getTime() <= Date.now()) {
      invalid.push({ field: 'expiresAt', message: 'expiresAt must be in the future' });
    }
    if (invalid.length > 0) throw new ValidationProblemException(invalid);
    const lacking = await this.permissions.lacking(actor.userId, orgId, dto.permissions);
    if (lacking.length > 0) {
      throw permissionDenied(lacking, 'An API key can only hold permissions you hold yourself.');
    }
    const { key, prefix, hash } = generateApiKey();
    const row = await this.transactions.run(orgId, async (manager) => {
      const entity: ApiKey = Object.assign(new ApiKey(), {
        id: newId(),
        createdAt: new Date(),
        organizationId: orgId,
        createdByUserId: actor.userId,
        name: dto.name,
        prefix,
        keyHash: hash,
        permissions: dto.permissions,
        expiresAt: dto.expiresAt ?? null,
        lastUsedAt: null,
        revokedAt: null,
      });
      await manager.insert(ApiKey, entity);
      await this.record(manager, actor, orgId, 'api-key.create', entity, { permissions: dto.permissions });
      return entity;
    });
    return { ...ApiKeyDto.from(row), key };
  }

  async list(orgId: string, page: number, pageSize: number): Promise<Page<ApiKeyDto>> {
    const { items, total } = await this.slice(orgId, (page - 1) * pageSize, pageSize);
    return { items, total, page, pageSize };
  }

  /** `limit` keys from `offset`, newest first (metadata only: a key's secret is never stored). */
  slice(orgId: string, offset: number, limit: number): Promise<Slice<ApiKeyDto>> {
    return this.transactions.run(orgId, async (manager) => {
      const [rows, total] = await manager.findAndCount(ApiKey, {
        select: API_KEY_SHOWN.select,
        where: { organizationId: orgId },
        order: { createdAt: 'DESC', id: 'DESC' },
        skip: offset,
        take: limit,
      });
      const now = Date.now();
      return { items: rows.map((row) => ApiKeyDto.from(row, now)), total };
    });
  }

  get(orgId: string, id: string): Promise<ApiKeyDto> {
    return this.transactions.run(orgId, async (manager) =>
      ApiKeyDto.from(await findShown(manager, ApiKey, API_KEY_SHOWN, orgId, id, 'No such API key.')),
    );
  }

  /** Revokes at once on every replica. Revoking twice is harmless. */
  async revoke(actor: Principal, orgId: string, id: string): Promise<void> {
    const prefix = await this.transactions.run(orgId, async (manager) => {
      const row = await this.find(manager, orgId, id, true);
      if (row.revokedAt) return row.prefix;
      await manager.update(ApiKey, { id }, { revokedAt: new Date() });
      await this.record(manager, actor, orgId, 'api-key.revoke', row, {});
      return row.prefix;
    });
    await this.registry.invalidate(prefix);
  }

  private async find(manager: EntityManager, orgId: string, id: string, lock = false): Promise<ApiKey> {
    const row = await manager.findOne(ApiKey, {
      where: { id, organizationId: orgId },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (!row) throw new NotFoundException('No such API key.');
    return row;
  }

  private record(
    manager: EntityManager,
    actor: Principal,
    orgId: string,
    action: string,
    key: ApiKey,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    const details = { name: key.name, prefix: key.prefix, ...metadata };
    return this.audit.change(manager, action, orgId, auditActor(actor), ['api_key', key.id], details);
  }
}

/**
 * Ends the keys a person created when their access ends (deactivated, removed from the
 * organization, later deprovisioned or erased): revoked in the caller's unit of work, one audit
 * row per key, dropped from every replica's cache after the commit.
 */
export async function revokeKeysOfDeparted(
  manager: EntityManager,
  registry: ApiKeyRegistry,
  audit: AuditService,
  userId: string,
  actor: AuditActor,
  reason: 'owner-deactivated' | 'owner-removed',
): Promise<number> {
  const revoked = await registry.revokeOwnedBy(manager, userId);
  for (const key of revoked) {
    await audit.change(manager, 'api-key.revoke', key.organizationId, actor, ['api_key', key.id], {
      name: key.name,
      prefix: key.prefix,
      reason,
    });
  }
  // SCIM tokens too (looked up in the database on every use, so nothing else needs telling); under
  // a tenant transaction RLS keeps this to that organization, under a system one it is everywhere.
  const tokens = await manager.query<Array<{ id: string; organization_id: string; name: string; prefix: string }>>(
    // As a SELECT over the UPDATE: TypeORM hands back an UPDATE's rows wrapped with its count.
    `WITH revoked AS (
       UPDATE scim_tokens SET revoked_at = now() WHERE created_by_user_id = $1 AND revoked_at IS NULL
       RETURNING id, organization_id, name, prefix)
     SELECT id, organization_id, name, prefix FROM revoked`,
    [userId],
  );
  for (const token of tokens) {
    await audit.change(manager, 'scim.token.revoke', token.organization_id, actor, ['scim_token', token.id], {
      name: token.name,
      prefix: token.prefix,
      reason,
    });
  }
  return revoked.length + tokens.length;
}
