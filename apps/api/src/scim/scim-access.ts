import { CredentialResolvers, safeEqual, sha256, type MachinePrincipal } from '@app/auth';
import { TenantTransaction } from '@app/database';
import {
  NotAMemberException,
  permissionDenied,
  PermissionResolver,
  PrincipalAuthorizers,
  type Membership,
} from '@app/rbac';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';

export const SCIM_TOKEN_PREFIX = 'scim_';
const TOKEN = /^scim_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;
/** The permission a SCIM token holds, and only it; no role can carry it. */
export const SCIM_PROVISION = 'scim:provision';
const LAST_USED_EVERY_MS = 60_000;

/** A caller provisioning over SCIM with an organization's token. */
export interface ScimPrincipal extends MachinePrincipal {
  kind: 'scim';
  actorType: 'scim_token';
  createdByUserId: string | null;
}

declare module '@app/auth' {
  interface PrincipalKinds {
    scim: ScimPrincipal;
  }
}

export function generateScimToken(): { token: string; prefix: string; hash: string } {
  const prefix = randomBytes(8).toString('hex');
  const token = `${SCIM_TOKEN_PREFIX}${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, prefix, hash: sha256(token) };
}

/**
 * SCIM tokens as callers: a `scim_…` bearer credential is looked up by its prefix and hash in the
 * database on every request (provisioning traffic is light, and a revocation or the creator's
 * departure then holds at once on every replica with nothing to invalidate). It reaches only its
 * organization's SCIM routes, and only while whoever created it is active and still holds
 * scim:manage there (a credential dies with its owner's access).
 */
@Injectable()
export class ScimAccess implements OnModuleInit {
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(
    private readonly credentials: CredentialResolvers,
    private readonly authorizers: PrincipalAuthorizers,
    private readonly transactions: TenantTransaction,
    private readonly permissions: PermissionResolver,
  ) {}

  onModuleInit(): void {
    this.credentials.register({ prefix: SCIM_TOKEN_PREFIX, authenticate: (token) => this.authenticate(token) });
    this.authorizers.register('scim', (principal, orgId, required) =>
      this.authorize(principal as ScimPrincipal, orgId, required),
    );
  }

  private async authenticate(token: string): Promise<ScimPrincipal | undefined> {
    const prefix = TOKEN.exec(token)?.[1];
    if (!prefix) return undefined;
    // Before the organization is known: a deliberate system read by the non-secret prefix.
    const rows = await this.transactions.runAsSystem((manager) =>
      manager.query<
        Array<{
          id: string;
          organization_id: string;
          token_hash: string;
          created_by_user_id: string | null;
          last_used_at: Date | null;
        }>
      >(
        `SELECT t.id, t.organization_id, t.token_hash, t.created_by_user_id, t.last_used_at
           FROM scim_tokens t JOIN users u ON u.id = t.created_by_user_id AND u.is_active
          WHERE t.prefix = $1 AND t.revoked_at IS NULL`,
        [prefix],
      ),
    );
    const row = rows[0];
    if (!row || !safeEqual(row.token_hash, sha256(token))) return undefined;
    await this.touch(row.id);
    return {
      kind: 'scim',
      actorType: 'scim_token',
      actorId: row.id,
      organizationId: row.organization_id,
      createdByUserId: row.created_by_user_id,
    };
  }

  private async authorize(principal: ScimPrincipal, orgId: string, required: string[]): Promise<Membership> {
    if (principal.organizationId !== orgId) throw new NotAMemberException();
    const beyond = required.filter((permission) => permission !== SCIM_PROVISION);
    if (beyond.length > 0) throw permissionDenied(beyond, 'A SCIM token reaches the SCIM endpoint only.');
    const creator = principal.createdByUserId ? await this.permissions.resolve(principal.createdByUserId, orgId) : null;
    if (!creator?.permissions.has('scim:manage')) {
      throw permissionDenied(['scim:manage'], 'Whoever created this SCIM token no longer manages SCIM here.');
    }
    const access: Membership = { permissions: new Set([SCIM_PROVISION]), teamPermissions: new Map() };
    // The organization's deletion is scheduled: provisioning stops with everything else (410).
    if (creator.deletionScheduledFor) access.deletionScheduledFor = creator.deletionScheduledFor;
    return access;
  }

  /** last_used_at, at most once a minute per token and replica. */
  private async touch(tokenId: string): Promise<void> {
    const now = Date.now();
    if ((this.lastUsedWritten.get(tokenId) ?? 0) > now - LAST_USED_EVERY_MS) return;
    this.lastUsedWritten.set(tokenId, now);
    if (this.lastUsedWritten.size > 10_000) this.lastUsedWritten.clear();
    await this.transactions.runAsSystem((manager) =>
      manager.query('UPDATE scim_tokens SET last_used_at = now() WHERE id = $1', [tokenId]),
    );
  }
}
