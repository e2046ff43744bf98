import { AppConfig } from '@app/config';
import { TenantTransaction } from '@app/database';
import { createRedisConnection } from '@app/queue';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';

interface CachedSession {
  userId: string;
  expiresAt: number;
  cachedUntil: number;
}

interface Invalidation {
  sessionIds?: string[];
  userId?: string;
}

/** How long a positive answer is trusted before the database is asked again. */
const CACHE_TTL_MS = 60_000;
const MAX_ENTRIES = 50_000;

/**
 * Answers "is this session still alive?" for every authenticated request without a database
 * round trip: active sessions are cached in memory, and revocation removes them at once,
 * on every replica through Redis pub/sub when REDIS_URL is set. A tombstone per revoked session
 * stops a concurrent cache miss from putting it back.
 */
@Injectable()
export class SessionRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SessionRegistry');
  private readonly cache = new Map<string, CachedSession>();
  private readonly tombstones = new Map<string, number>();
  private publisher: Redis | undefined;
  private subscriber: Redis | undefined;
  private readonly channel: string;

  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
  ) {
    this.channel = `${config.queuePrefix}:session-invalidation`;
  }

  onModuleInit(): void {
    if (!this.config.redisUrl) return;
    this.publisher = createRedisConnection(this.config.redisUrl, 'probe', 'session-publisher');
    this.subscriber = createRedisConnection(this.config.redisUrl, 'worker', 'session-subscriber');
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (error: Error) => this.logger.warn(`redis: ${error.message}`));
    }
    // Messages published while the subscriber was away are lost: forget everything on reconnect,
    // and trust no cached answer until the subscription is live again (see isActive).
    this.subscriber.on('ready', () => this.cache.clear());
    this.subscriber.on('close', () => this.cache.clear());
    this.subscriber.on('message', (_channel: string, message: string) => {
      try {
        this.forget(JSON.parse(message) as Invalidation);
      } catch {
        this.logger.warn('ignored a malformed invalidation message');
      }
    });
    // Not awaited: with Redis down the api still starts, and answers from the database until the
    // subscription is live (ioredis subscribes again on every reconnect).
    this.subscriber.subscribe(this.channel).catch((error: unknown) => {
      this.logger.warn(
        `could not subscribe to invalidations: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  }

  async isActive(sessionId: string, userId: string): Promise<boolean> {
    const now = Date.now();
    const cached = this.subscriberLive() ? this.cache.get(sessionId) : undefined;
    if (cached && cached.cachedUntil > now) return cached.userId === userId && cached.expiresAt > now;
    if ((this.tombstones.get(sessionId) ?? 0) > now) return false;
    const rows = await this.transactions.runAsSystem((manager) =>
      manager.query<Array<{ user_id: string; expires_at: Date }>>(
        `SELECT s.user_id, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.is_active`,
        [sessionId],
      ),
    );
    const row = rows[0];
    if (!row) return false;
    // A revocation that landed while we were reading wins.
    if ((this.tombstones.get(sessionId) ?? 0) > Date.now()) return false;
    const expiresAt = new Date(row.expires_at).getTime();
    if (this.cache.size >= MAX_ENTRIES) this.evict();
    this.cache.set(sessionId, { userId: row.user_id, expiresAt, cachedUntil: Math.min(expiresAt, now + CACHE_TTL_MS) });
    return row.user_id === userId;
  }

  /** Without Redis there is one replica; with it, the cache is trusted only while invalidations can arrive. */
  private subscriberLive(): boolean {
    return !this.subscriber || this.subscriber.status === 'ready';
  }

  /** Call after the revocation is committed. */
  async revokeSessions(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.broadcast({ sessionIds });
  }

  /** Call after every session of a user was revoked (deactivation, password reset). */
  async revokeUser(userId: string, sessionIds: string[] = []): Promise<void> {
    await this.broadcast({ userId, sessionIds });
  }

  private async broadcast(invalidation: Invalidation): Promise<void> {
    this.forget(invalidation);
    if (!this.publisher) return;
    try {
      await this.publisher.publish(this.channel, JSON.stringify(invalidation));
    } catch (error) {
      // Other replicas fall back to their cache TTL; this one is already up to date.
      this.logger.error(
        `could not broadcast a session revocation: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private forget({ sessionIds = [], userId }: Invalidation): void {
    const until = Date.now() + this.config.auth.accessTokenTtl * 1000;
    for (const sessionId of sessionIds) {
      this.cache.delete(sessionId);
      this.tombstones.set(sessionId, until);
    }
    if (userId) {
      for (const [sessionId, entry] of this.cache) {
        if (entry.userId === userId) {
          this.cache.delete(sessionId);
          this.tombstones.set(sessionId, until);
        }
      }
    }
    this.sweep();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, until] of this.tombstones) if (until <= now) this.tombstones.delete(key);
  }

  private evict(): void {
    // Map keeps insertion order: drop the oldest tenth.
    let toDrop = Math.ceil(MAX_ENTRIES / 10);
    for (const key of this.cache.keys()) {
      if (toDrop-- <= 0) break;
      this.cache.delete(key);
    }
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
    this.publisher?.disconnect();
  }
}
