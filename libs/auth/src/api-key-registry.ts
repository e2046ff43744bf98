import { ApiKey, TenantTransaction } from '@app/database';
import { InvalidationBus } from '@app/queue';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
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
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly transactions: TenantTransaction,
    private readonly bus: InvalidationBus,
  ) {}

  onModuleInit(): void {
    this.bus.on(TOPIC, (payload) => {
      const { prefix } = payload as { prefix: string };
      this.cache.delete(prefix);
      this.invalidatedAt.set(prefix, Date.now());
    });
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
      if ((this.invalidatedAt.get(prefix) ?? 0) >= now) entry = await this.load(prefix, Date.now());
      if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
      if (this.invalidatedAt.size >= MAX_ENTRIES) this.invalidatedAt.clear();
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
    return this.bus.publish(TOPIC, { prefix });
  }

  private async load(prefix: string, now: number): Promise<CachedKey> {
    // Authentication comes before any tenant is known: a deliberate system read, by the unique prefix.
    const row = await this.transactions.runAsSystem((manager) => manager.findOneBy(ApiKey, { prefix }));
    if (!row || row.revokedAt) return { key: null, cachedUntil: now + NEGATIVE_TTL_MS };
    return {
      key: {
        id: row.id,
        hash: row.keyHash,
        organizationId: row.organizationId,
        permissions: row.permissions,
        createdByUserId: row.createdByUserId,
        expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
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
