import { AppConfig } from '@app/config';
import { TenantTransaction } from '@app/database';
import { InvalidationBus } from '@app/queue';
import { Injectable, type OnModuleInit } from '@nestjs/common';

/** A live session as the guard needs it. */
export interface LiveSession {
  authMethod: string;
  /** An impersonation session: the admin acting, and whether it may write. */
  impersonator?: { userId: string; write: boolean };
}

interface CachedSession extends LiveSession {
  userId: string;
  expiresAt: number;
  cachedUntil: number;
}

interface Invalidation {
  sessionIds?: string[];
  userId?: string;
}

const TOPIC = 'sessions';
/** How long a positive answer is trusted before the database is asked again. */
const CACHE_TTL_MS = 60_000;
const MAX_ENTRIES = 50_000;

/**
 * Answers "is this session still alive?" for every authenticated request without a database
 * round trip: active sessions are cached in memory, and revocation removes them at once on every
 * replica (InvalidationBus). A tombstone per revoked session stops a concurrent cache miss from
 * putting it back; while the bus cannot guarantee delivery, the cache is not trusted.
 */
@Injectable()
export class SessionRegistry implements OnModuleInit {
  private readonly cache = new Map<string, CachedSession>();
  private readonly tombstones = new Map<string, number>();

  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly bus: InvalidationBus,
  ) {}

  onModuleInit(): void {
    this.bus.on(TOPIC, (payload) => this.forget(payload as Invalidation));
    this.bus.onReset(() => this.cache.clear());
  }

  /**
   * How the live session signed in (`password`, `oauth:<provider>`, `sso:<connection>`), or
   * undefined when it is revoked, expired, someone else's or its user is deactivated.
   */
  async authMethod(sessionId: string, userId: string): Promise<string | undefined> {
    return (await this.live(sessionId, userId))?.authMethod;
  }

  /**
   * The live session, or undefined as for authMethod. An impersonation session also dies when its
   * admin is deactivated or is no longer a platform admin.
   */
  async live(sessionId: string, userId: string): Promise<LiveSession | undefined> {
    const now = Date.now();
    const cached = this.bus.live ? this.cache.get(sessionId) : undefined;
    if (cached && cached.cachedUntil > now) {
      return cached.userId === userId && cached.expiresAt > now ? cached : undefined;
    }
    if ((this.tombstones.get(sessionId) ?? 0) > now) return undefined;
    const rows = await this.transactions.runAsSystem((manager) =>
      manager.query<
        Array<{
          user_id: string;
          expires_at: Date;
          auth_method: string;
          impersonator_id: string | null;
          impersonation_write: boolean;
        }>
      >(
        `SELECT s.user_id, s.expires_at, s.auth_method, s.impersonator_id, s.impersonation_write
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.is_active
            AND (s.impersonator_id IS NULL OR EXISTS (
                  SELECT 1 FROM users a WHERE a.id = s.impersonator_id AND a.is_active AND a.is_platform_admin))`,
        [sessionId],
      ),
    );
    const row = rows[0];
    if (!row) return undefined;
    // A revocation that landed while we were reading wins.
    if ((this.tombstones.get(sessionId) ?? 0) > Date.now()) return undefined;
    const expiresAt = new Date(row.expires_at).getTime();
    if (this.cache.size >= MAX_ENTRIES) this.evict();
    const entry: CachedSession = {
      userId: row.user_id,
      authMethod: row.auth_method,
      ...(row.impersonator_id ? { impersonator: { userId: row.impersonator_id, write: row.impersonation_write } } : {}),
      expiresAt,
      cachedUntil: Math.min(expiresAt, now + CACHE_TTL_MS),
    };
    this.cache.set(sessionId, entry);
    return row.user_id === userId ? entry : undefined;
  }

  async isActive(sessionId: string, userId: string): Promise<boolean> {
    return (await this.authMethod(sessionId, userId)) !== undefined;
  }

  /** Call after the revocation is committed. */
  async revokeSessions(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.bus.publish(TOPIC, { sessionIds } satisfies Invalidation);
  }

  /** Call after a user was deactivated: every cached session of theirs goes. */
  async revokeUser(userId: string, sessionIds: string[] = []): Promise<void> {
    await this.bus.publish(TOPIC, { userId, sessionIds } satisfies Invalidation);
  }

  private forget({ sessionIds = [], userId }: Invalidation): void {
    const until = Date.now() + this.config.auth.accessTokenTtl * 1000;
    for (const sessionId of sessionIds) {
      this.cache.delete(sessionId);
      this.tombstones.set(sessionId, until);
    }
    if (userId) {
      for (const [sessionId, entry] of this.cache) {
        if (entry.userId !== userId) continue;
        this.cache.delete(sessionId);
        this.tombstones.set(sessionId, until);
      }
    }
    const now = Date.now();
    for (const [key, expiry] of this.tombstones) if (expiry <= now) this.tombstones.delete(key);
  }

  private evict(): void {
    // Map keeps insertion order: drop the oldest tenth.
    let toDrop = Math.ceil(MAX_ENTRIES / 10);
    for (const key of this.cache.keys()) {
      if (toDrop-- <= 0) break;
      this.cache.delete(key);
    }
  }
}
