import { Metrics, ProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { createRedisConnection } from '@app/queue';
import { HttpStatus, Injectable, Logger, Optional, type OnModuleDestroy } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';

export interface ThrottleRecord {
  totalHits: number;
  /** Seconds until the window ends. */
  timeToExpire: number;
  isBlocked: boolean;
  /** Seconds until the block ends. */
  timeToBlockExpire: number;
}

// One round trip, atomic: count the hit in a fixed window; once over the limit, block for
// `blockMs` (the block key outlives the window so a blocked client cannot just wait it out early).
const INCREMENT = `
local hits = redis.call('INCRBY', KEYS[1], ARGV[4])
if hits == tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
local blocked = redis.call('PTTL', KEYS[2])
if blocked <= 0 and hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  blocked = tonumber(ARGV[3])
end
return { hits, ttl, blocked }
`;

const MAX_MEMORY_KEYS = 100_000;

type RateLimitRedis = Redis & {
  rateLimitIncrement(
    hitsKey: string,
    blockKey: string,
    ttlMs: string,
    limit: string,
    blockMs: string,
    weight: string,
  ): Promise<unknown>;
};

/**
 * Where hits are counted: Redis when REDIS_URL is set (every replica shares the counts), memory
 * otherwise. If Redis cannot answer, RATE_LIMIT_FAIL_MODE decides: `open` lets the request through
 * (logged at most every 10 s, and counted), `closed` refuses it with 503.
 */
@Injectable()
export class RateLimitStorage implements ThrottlerStorage, OnModuleDestroy {
  private readonly logger = new Logger('RateLimit');
  private readonly redis: Redis | undefined;
  private readonly memory = new Map<string, { hits: number; expiresAt: number; blockedUntil: number }>();
  private lastWarning = 0;
  /** Requests let through because the store was unreachable (fail open). */
  failedOpen = 0;

  constructor(
    private readonly config: AppConfig,
    @Optional() private readonly metrics?: Metrics,
  ) {
    // Auto-pipelining: the counts of requests arriving in the same tick go out as one write.
    this.redis = config.redisUrl
      ? createRedisConnection(config.redisUrl, 'producer', 'rate-limit', { enableAutoPipelining: true })
      : undefined;
    // Sent as EVALSHA (the script's hash, not its text, on every request); ioredis loads the
    // script again by itself if the server does not know it (a restarted Redis, say).
    this.redis?.defineCommand('rateLimitIncrement', { numberOfKeys: 2, lua: INCREMENT });
    // A failed connection attempt must not become an unhandled 'error' event.
    this.redis?.on('error', () => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.redis) return;
    // quit() waits for a connection that may never come; disconnect() stops the retries at once.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis?.disconnect());
    else this.redis.disconnect();
  }

  /**
   * Counts `weight` hits (1 for a request; a costly GraphQL operation counts more). The fifth
   * parameter is the throttler's name when @nestjs/throttler calls it: not a number, so 1.
   */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    weight: number | string = 1,
  ): Promise<ThrottleRecord> {
    const hits = typeof weight === 'number' && weight >= 1 ? Math.floor(weight) : 1;
    if (!this.redis) return this.incrementInMemory(key, ttl, limit, blockDuration, hits);
    const prefixed = `${this.config.queuePrefix}:rl:${key}`;
    try {
      const [total, ttlMs, blockedMs] = (await (this.redis as RateLimitRedis).rateLimitIncrement(
        prefixed,
        `${prefixed}:blocked`,
        String(ttl),
        String(limit),
        String(blockDuration),
        String(hits),
      )) as [number, number, number];
      return {
        totalHits: total,
        timeToExpire: Math.max(0, Math.ceil(ttlMs / 1000)),
        isBlocked: blockedMs > 0,
        timeToBlockExpire: Math.max(0, Math.ceil(blockedMs / 1000)),
      };
    } catch (error) {
      return this.unavailable(error, ttl);
    }
  }

  private incrementInMemory(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    hits: number,
  ): ThrottleRecord {
    const now = Date.now();
    let entry = this.memory.get(key);
    if (!entry || (entry.expiresAt <= now && entry.blockedUntil <= now)) {
      if (this.memory.size >= MAX_MEMORY_KEYS) this.sweep(now);
      entry = { hits: 0, expiresAt: now + ttl, blockedUntil: 0 };
      this.memory.set(key, entry);
    }
    if (entry.expiresAt <= now) Object.assign(entry, { hits: 0, expiresAt: now + ttl });
    entry.hits += hits;
    if (entry.blockedUntil <= now && entry.hits > limit) entry.blockedUntil = now + blockDuration;
    return {
      totalHits: entry.hits,
      timeToExpire: Math.ceil((entry.expiresAt - now) / 1000),
      isBlocked: entry.blockedUntil > now,
      timeToBlockExpire: Math.max(0, Math.ceil((entry.blockedUntil - now) / 1000)),
    };
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.memory) {
      if (entry.expiresAt <= now && entry.blockedUntil <= now) this.memory.delete(key);
    }
    if (this.memory.size >= MAX_MEMORY_KEYS) this.memory.clear();
  }

  private unavailable(error: unknown, ttl: number): ThrottleRecord {
    const now = Date.now();
    if (now - this.lastWarning > 10_000) {
      this.lastWarning = now;
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn(`rate-limit store unreachable (${reason}); failing ${this.config.http.rateLimitFailMode}`);
    }
    this.metrics?.rateLimitStoreFailures.inc({ mode: this.config.http.rateLimitFailMode });
    if (this.config.http.rateLimitFailMode === 'closed') {
      throw new ProblemException({
        status: HttpStatus.SERVICE_UNAVAILABLE,
        slug: 'rate-limiter-unavailable',
        title: 'Service Unavailable',
        detail: 'Requests cannot be counted right now; try again shortly.',
      });
    }
    this.failedOpen += 1;
    return { totalHits: 0, timeToExpire: Math.ceil(ttl / 1000), isBlocked: false, timeToBlockExpire: 0 };
  }
}
