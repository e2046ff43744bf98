import type { AppConfig } from '@app/config';
import { createRedisConnection } from '@app/queue';
import type { OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';

const MAX_ENTRIES = 100_000;

/**
 * Short-lived values that may be taken once (flow state, challenges): in Redis when configured,
 * so any replica can finish what another started and GETDEL makes the use atomic; in a bounded
 * map in memory otherwise (the embedded default, one process).
 */
export abstract class SingleUseStore implements OnModuleDestroy {
  protected readonly redis: Redis | undefined;
  private readonly memory = new Map<string, { value: string; expiresAt: number }>();
  protected readonly prefix: string;

  protected constructor(config: AppConfig, name: string) {
    this.prefix = `${config.queuePrefix}:${name}:`;
    this.redis = config.redisUrl ? createRedisConnection(config.redisUrl, 'producer', name) : undefined;
    // Outages surface as failed commands (and in readiness); the event itself needs no handling.
    this.redis?.on('error', () => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.redis) return;
    // quit() waits for a connection that may never come; disconnect() stops the retries at once.
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
      // Still full (a flood of public requests for challenges): the oldest go, so a flood costs the
      // slowest flows in progress a retry, never every flow a 500. Map keeps insertion order.
      for (const entry of this.memory.keys()) {
        if (this.memory.size < MAX_ENTRIES) break;
        this.memory.delete(entry);
      }
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
