import { AppConfig } from '@app/config';
import { createRedisConnection } from '@app/queue';
import { MemorySamlStateStore, RedisSamlStateStore, type SamlStateStore } from '@app/sso';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';

const MAX_ENTRIES = 100_000;

/**
 * Short-lived, single-use values of a sign-in in flight (what a RelayState stands for, the code
 * that hands a finished sign-in to the front end) and the SAML request/replay state: in Redis
 * when configured, so any replica can finish a flow another started; in memory otherwise.
 */
@Injectable()
export class SsoStore implements OnModuleDestroy {
  private readonly redis: Redis | undefined;
  private readonly memory = new Map<string, { value: string; expiresAt: number }>();
  private readonly prefix: string;
  readonly saml: SamlStateStore;

  constructor(config: AppConfig) {
    this.prefix = `${config.queuePrefix}:sso:`;
    this.redis = config.redisUrl ? createRedisConnection(config.redisUrl, 'producer', 'sso-state') : undefined;
    this.redis?.on('error', () => undefined);
    this.saml = this.redis ? new RedisSamlStateStore(this.redis, `${this.prefix}saml:`) : new MemorySamlStateStore();
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.redis) return;
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis?.disconnect());
    else this.redis.disconnect();
  }

  async put(kind: string, key: string, value: unknown, ttlMs: number): Promise<void> {
    const serialised = JSON.stringify(value);
    if (this.redis) {
      await this.redis.set(`${this.prefix}${kind}:${key}`, serialised, 'PX', ttlMs);
      return;
    }
    const now = Date.now();
    if (this.memory.size >= MAX_ENTRIES) {
      for (const [entry, { expiresAt }] of this.memory) if (expiresAt <= now) this.memory.delete(entry);
      if (this.memory.size >= MAX_ENTRIES) throw new Error('too many sign-ins in progress');
    }
    this.memory.set(`${kind}:${key}`, { value: serialised, expiresAt: now + ttlMs });
  }

  /** The value, once: undefined when unknown, used or expired. */
  async take<T>(kind: string, key: string): Promise<T | undefined> {
    let raw: string | null | undefined;
    if (this.redis) {
      raw = await this.redis.getdel(`${this.prefix}${kind}:${key}`);
    } else {
      const entry = this.memory.get(`${kind}:${key}`);
      this.memory.delete(`${kind}:${key}`);
      raw = entry && entry.expiresAt > Date.now() ? entry.value : undefined;
    }
    return raw ? (JSON.parse(raw) as T) : undefined;
  }
}
