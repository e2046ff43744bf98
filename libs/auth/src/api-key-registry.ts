import { TenantTransaction } from '@app/database';
import { InvalidationBus } from '@app/queue';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { apiKeyPrefix } from './api-key-format';
import type { ApiKeyPrincipal } from './principal';
import { safeEqual, sha256 } from './secret-token';

interface CachedKey {
  /** null: no usable key has this prefix (negative answers are cached too, briefly). */
  key: {
    id: string;
    hash: string;
    organizationId: string;
    permissions: string[];
    createdByUserId: string | null;
    expiresAt: number | null;
  } | null;
  cachedUntil: number;
}

interface KeyRow {
  id: string;
  key_hash: string;
  organization_id: string;
  permissions: string[];
  created_by_user_id: string;
  expires_at: Date | string | null;
}

interface Invalidation {
  prefix?: string;
  ownerId?: string;
}

export interface RevokedKey {
  id: string;
  organizationId: string;
  name: string;
  prefix: string;
}

const TOPIC = 'api-keys';
const CACHE_TTL_MS = 60_000;
const NEGATIVE_TTL_MS = 5_000;
const MAX_ENTRIES = 50_000;
const LAST_USED_FLUSH_MS = 30_000;

/**
 * Authenticates API keys without a database round trip once warm: keys are cached by their
 * lookup prefix and dropped on every replica when revoked (InvalidationBus). Expiry is checked on
 * each request. `lastUsedAt` is batched: at most one write per key per flush interval.
 */
@Injectable()
export class ApiKeyRegistry implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ApiKeys');
  private readonly cache = new Map<string, CachedKey>();
  private readonly used = new Map<string, Date>();
  /** When each prefix was last invalidated: a load that started before then may have read the old row. */
  private readonly invalidatedAt = new Map<string, number>();
  /** The same, per creator: every key a user made is dropped when their access ends. */
  private readonly ownerInvalidatedAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly transactions: TenantTransaction,
    private readonly bus: InvalidationBus,
  ) {}

  onModuleInit(): void {
    this.bus.on(TOPIC, (payload) => this.forget(payload as Invalidation));
    this.bus.onReset(() => this.cache.clear());
    this.timer = setInterval(() => void this.flush(), LAST_USED_FLUSH_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** The principal for a presented key, or undefined when it is malformed, unknown, revoked or expired. */
  async authenticate(presented: string): Promise<ApiKeyPrincipal | undefined> {
    const prefix = apiKeyPrefix(presented);
    if (!prefix) return undefined;
    const now = Date.now();
    let entry = this.bus.live ? this.cache.get(prefix) : undefined;
    if (!entry || entry.cachedUntil <= now) {
      entry = await this.load(prefix, now);
      // A revocation that landed while we were reading wins: read again.
      if (this.invalidatedSince(prefix, entry, now)) entry = await this.load(prefix, Date.now());
      if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
      if (this.invalidatedAt.size >= MAX_ENTRIES) this.invalidatedAt.clear();
      if (this.ownerInvalidatedAt.size >= MAX_ENTRIES) this.ownerInvalidatedAt.clear();
      this.cache.set(prefix, entry);
    }
    const key = entry.key;
    if (!key || !safeEqual(key.hash, sha256(presented))) return undefined;
    if (key.expiresAt !== null && key.expiresAt <= now) return undefined;
    this.used.set(key.id, new Date(now));
    return {
      kind: 'apiKey',
      apiKeyId: key.id,
      organizationId: key.organizationId,
      permissions: new Set(key.permissions),
      createdByUserId: key.createdByUserId,
    };
  }

  /** Call after committing a revocation (or any change to the key). */
  invalidate(prefix: string): Promise<void> {
    return this.bus.publish(TOPIC, { prefix } satisfies Invalidation);
  }

  /** Call after committing the end of a user's access (deactivation, removal): all their keys drop. */
  invalidateOwner(userId: string): Promise<void> {
    return this.bus.publish(TOPIC, { ownerId: userId } satisfies Invalidation);
  }

  /**
   * Revokes, inside the caller's unit of work, every live key `userId` created (in the tenant
   * the transaction is scoped to, or everywhere in a system transaction), and drops them from
   * every replica's cache once it commits. Returns what was revoked, for the caller's audit rows.
   */
  async revokeOwnedBy(manager: EntityManager, userId: string): Promise<RevokedKey[]> {
    const rows = await manager.query<Array<{ id: string; organization_id: string; name: string; prefix: string }>>(
      `WITH revoked AS (
         UPDATE api_keys SET revoked_at = now()
          WHERE created_by_user_id = $1 AND revoked_at IS NULL
          RETURNING id, organization_id, name, prefix)
       SELECT id, organization_id, name, prefix FROM revoked`,
      [userId],
    );
    this.transactions.afterCommit(() => void this.invalidateOwner(userId));
    return rows.map((row) => ({ id: row.id, organizationId: row.organization_id, name: row.name, prefix: row.prefix }));
  }

  private forget({ prefix, ownerId }: Invalidation): void {
    const now = Date.now();
    if (prefix) {
      this.cache.delete(prefix);
      this.invalidatedAt.set(prefix, now);
    }
    if (ownerId) {
      for (const [cachedPrefix, entry] of this.cache) {
        if (entry.key?.createdByUserId === ownerId) this.cache.delete(cachedPrefix);
      }
      this.ownerInvalidatedAt.set(ownerId, now);
    }
  }

  private invalidatedSince(prefix: string, entry: CachedKey, since: number): boolean {
    if ((this.invalidatedAt.get(prefix) ?? 0) >= since) return true;
    const owner = entry.key?.createdByUserId;
    return owner !== undefined && owner !== null && (this.ownerInvalidatedAt.get(owner) ?? 0) >= since;
  }

  private async load(prefix: string, now: number): Promise<CachedKey> {
    // Authentication comes before any tenant is known: a deliberate system read, by the unique
    // prefix. A key is usable only while it is live and the person who created it is active: the
    // database answers that, so it holds after a restart and on a replica that missed a message.
    const rows = await this.transactions.runAsSystem((manager) =>
      manager.query<KeyRow[]>(
        `SELECT k.id, k.key_hash, k.organization_id, k.permissions, k.created_by_user_id, k.expires_at
           FROM api_keys k JOIN users u ON u.id = k.created_by_user_id
          WHERE k.prefix = $1 AND k.revoked_at IS NULL AND u.is_active`,
        [prefix],
      ),
    );
    const row = rows[0];
    if (!row) return { key: null, cachedUntil: now + NEGATIVE_TTL_MS };
    return {
      key: {
        id: row.id,
        hash: row.key_hash,
        organizationId: row.organization_id,
        permissions: row.permissions,
        createdByUserId: row.created_by_user_id,
        expiresAt: row.expires_at ? new Date(row.expires_at).getTime() : null,
      },
      cachedUntil: now + CACHE_TTL_MS,
    };
  }

  /** Writes the pending last-use times (every 30 s, and on shutdown). */
  async flush(): Promise<void> {
    if (this.used.size === 0) return;
    const batch = [...this.used.entries()];
    this.used.clear();
    try {
      await this.transactions.runAsSystem((manager) =>
        manager.query(
          `UPDATE api_keys AS k SET last_used_at = u.at
             FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::timestamptz[]) AS at) AS u
            WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`,
          [batch.map(([id]) => id), batch.map(([, at]) => at.toISOString())],
        ),
      );
    } catch (error) {
      this.logger.warn(`could not record API key use: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
