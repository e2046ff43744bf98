import { AppConfig } from '@app/config';
import { createRedisConnection } from '@app/queue';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';

/** What the api remembers between sending the browser to a provider and its coming back. */
export interface PendingAuthorization {
  provider: string;
  /** login: sign in or sign up; link: add the identity to `userId`'s account. */
  intent: 'login' | 'link';
  userId?: string;
  codeVerifier: string;
  nonce: string;
}

const MAX_PENDING = 100_000;

/**
 * Single-use `state` values (OAUTH_STATE_TTL, ten minutes by default): in Redis when configured (any replica can finish
 * the flow; GETDEL makes the use atomic), in memory otherwise.
 */
@Injectable()
export class OAuthStateStore implements OnModuleDestroy {
  private readonly redis: Redis | undefined;
  private readonly memory = new Map<string, { value: PendingAuthorization; expiresAt: number }>();
  private readonly key: (state: string) => string;
  private readonly ttlMs: number;

  constructor(config: AppConfig) {
    this.ttlMs = config.oauth.stateTtl * 1000;
    this.redis = config.redisUrl ? createRedisConnection(config.redisUrl, 'producer', 'oauth-state') : undefined;
    // Outages surface as failed commands (and in readiness); the event itself needs no handling.
    this.redis?.on('error', () => undefined);
    this.key = (state) => `${config.queuePrefix}:oauth-state:${state}`;
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.redis) return;
    // quit() waits for a connection that may never come; disconnect() stops the retries at once.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis?.disconnect());
    else this.redis.disconnect();
  }

  async put(state: string, value: PendingAuthorization): Promise<void> {
    if (this.redis) {
      await this.redis.set(this.key(state), JSON.stringify(value), 'PX', this.ttlMs);
      return;
    }
    const now = Date.now();
    if (this.memory.size >= MAX_PENDING) {
      for (const [key, entry] of this.memory) if (entry.expiresAt <= now) this.memory.delete(key);
      if (this.memory.size >= MAX_PENDING) throw new Error('too many sign-ins in progress');
    }
    this.memory.set(state, { value, expiresAt: now + this.ttlMs });
  }

  /** Returns and forgets the pending authorization; undefined when unknown, used or expired. */
  async take(state: string): Promise<PendingAuthorization | undefined> {
    if (this.redis) {
      const raw = await this.redis.getdel(this.key(state));
      return raw ? (JSON.parse(raw) as PendingAuthorization) : undefined;
    }
    const entry = this.memory.get(state);
    this.memory.delete(state);
    return entry && entry.expiresAt > Date.now() ? entry.value : undefined;
  }
}
