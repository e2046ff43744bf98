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
// When the caller is well under its limit, the replica may also take a lease: up to ARGV[5] more
// hits, never more than an eighth of what would be left and none unless that is 2 or more (so a
// limit of 16 or less is counted exactly), counted now and spent locally later.
// Every hit a replica admits has been counted here first, so the replicas together never admit
// more than the limit; unspent leases only make a caller's limit run out a little earlier.
const INCREMENT = `
local weight = tonumber(ARGV[4])
local limit = tonumber(ARGV[2])
local blocked = redis.call('PTTL', KEYS[2])
local grant = weight
if blocked <= 0 then
  local spare = limit - tonumber(redis.call('GET', KEYS[1]) or '0') - weight
  local extra = math.min(tonumber(ARGV[5]), math.floor(spare / 8))
  if extra >= 2 then grant = weight + extra end
end
local hits = redis.call('INCRBY', KEYS[1], grant)
if hits == grant then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if blocked <= 0 and hits > limit then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  blocked = tonumber(ARGV[3])
end
return { hits, ttl, blocked, grant }
`;

/** Hits this replica has counted in Redis ahead of use, for one key, until the window ends. */
interface Lease {
  /** Counted, not yet spent. */
  spare: number;
  /** Hits in the window as this replica knows them: Redis's count when leased, less what is spare. */
  used: number;
  /** No later than the Redis window's end (measured from before the round trip). */
  expiresAt: number;
}

const MAX_MEMORY_KEYS = 100_000;
const noop = (): void => undefined;

type RateLimitRedis = Redis & {
  rateLimitIncrement(
    hitsKey: string,
    blockKey: string,
    ttlMs: string,
    limit: string,
    blockMs: string,
    weight: string,
    lease: string,
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
  private readonly leases = new Map<string, Lease>();
  /** Keys with a lease request on its way to Redis: settles (never rejects) once it is kept. */
  private readonly leasing = new Map<string, Promise<void>>();
  private readonly lease: string;
  private lastWarning = 0;
  /** Requests let through because the store was unreachable (fail open). */
  failedOpen = 0;

  constructor(
    private readonly config: AppConfig,
    @Optional() private readonly metrics?: Metrics,
  ) {
    // Failing closed means no request is served unless Redis counted it just now: no leases then.
    this.lease = config.http.rateLimitFailMode === 'closed' ? '0' : String(config.http.rateLimitLease);
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
   * `leaseable`: whether hits may be counted ahead for this key (see INCREMENT). Off unless asked
   * for: a key that names someone other than the caller (the target account of a sign-in) must not
   * answer faster when it was used recently, or timing would tell who signed in.
   */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    weight: number | string = 1,
    leaseable = false,
  ): Promise<ThrottleRecord> {
    const hits = typeof weight === 'number' && weight >= 1 ? Math.floor(weight) : 1;
    if (!this.redis) return this.incrementInMemory(key, ttl, limit, blockDuration, hits);
    const prefixed = `${this.config.queuePrefix}:rl:${key}`;
    if (!leaseable || this.lease === '0') return this.countExactly(prefixed, ttl, limit, blockDuration, hits);
    // A lease is spent only under the limit and window it was taken for (a route's @Throttle may
    // set others for the same key).
    const leaseKey = `${prefixed} ${limit} ${ttl}`;
    const leased = this.spendLease(leaseKey, hits);
    if (leased) return leased;
    // Requests arriving together for one key: the first asks for a lease and the others wait for
    // its answer, then spend from it. Were each to ask, their leases, counted at once, could spend
    // the limit before any of them is used. One who still finds nothing counts itself, exactly.
    const pending = this.leasing.get(leaseKey);
    if (pending) {
      await pending;
      const spent = this.spendLease(leaseKey, hits);
      if (spent) return spent;
    }
    const lease = this.leasing.has(leaseKey) ? '0' : this.lease;
    const call = this.countInRedis(prefixed, leaseKey, ttl, limit, blockDuration, hits, lease);
    if (lease !== '0') {
      const settled = call.then(noop, noop);
      this.leasing.set(leaseKey, settled);
      void settled.then(() => this.leasing.get(leaseKey) === settled && this.leasing.delete(leaseKey));
    }
    return this.settle(call, ttl);
  }

  /** A key that takes no lease: one round trip, no lease bookkeeping. */
  private async countExactly(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    hits: number,
  ): Promise<ThrottleRecord> {
    return this.settle(this.countInRedis(key, undefined, ttl, limit, blockDuration, hits, '0'), ttl);
  }

  /** A count's answer, or what an unreachable Redis means for this window (unavailable). */
  private async settle(count: Promise<ThrottleRecord>, ttl: number): Promise<ThrottleRecord> {
    try {
      return await count;
    } catch (error) {
      return this.unavailable(error, ttl);
    }
  }

  /** One round trip: counts the hits (and a lease of up to `lease` more) in Redis. */
  private async countInRedis(
    key: string,
    leaseKey: string | undefined,
    ttl: number,
    limit: number,
    blockDuration: number,
    hits: number,
    lease: string,
  ): Promise<ThrottleRecord> {
    // A monotonic clock: a wall clock stepped back could let a lease outlive Redis's window.
    const sentAt = performance.now();
    const [total, ttlMs, blockedMs, granted] = (await (this.redis as RateLimitRedis).rateLimitIncrement(
      key,
      `${key}:blocked`,
      String(ttl),
      String(limit),
      String(blockDuration),
      String(hits),
      lease,
    )) as [number, number, number, number];
    // Kept before this promise settles, so the requests waiting on it find it.
    if (leaseKey !== undefined && granted > hits) this.keepLease(leaseKey, granted - hits, total, sentAt + ttlMs);
    const held = leaseKey === undefined ? undefined : this.leases.get(leaseKey);
    const spare = held && held.expiresAt > performance.now() ? held.spare : 0;
    return {
      totalHits: Math.max(hits, total - spare),
      timeToExpire: Math.max(0, Math.ceil(ttlMs / 1000)),
      isBlocked: blockedMs > 0,
      timeToBlockExpire: Math.max(0, Math.ceil(blockedMs / 1000)),
    };
  }

  /** The request admitted from hits this replica already counted in Redis, if it holds enough. */
  private spendLease(key: string, hits: number): ThrottleRecord | undefined {
    const lease = this.leases.get(key);
    if (!lease) return undefined;
    const now = performance.now();
    if (lease.expiresAt <= now) {
      this.leases.delete(key);
      return undefined;
    }
    if (lease.spare < hits) return undefined;
    lease.spare -= hits;
    lease.used += hits;
    if (lease.spare === 0) this.leases.delete(key);
    return {
      totalHits: lease.used,
      timeToExpire: Math.ceil((lease.expiresAt - now) / 1000),
      isBlocked: false,
      timeToBlockExpire: 0,
    };
  }

  /**
   * Keeps `extra` counted hits to spend on this key's next requests. Two grants for one key can
   * cross (requests in the same tick); their spares add up, so no counted hit is forgotten.
   */
  private keepLease(key: string, extra: number, total: number, expiresAt: number): void {
    // A lease still held is of the same window (it ends no later than the window does), so both
    // ends are bounds of one window and the earlier is kept.
    const held = this.leases.get(key);
    const live = held && held.expiresAt > performance.now() ? held : undefined;
    if (!held && this.leases.size >= MAX_MEMORY_KEYS) this.sweepLeases();
    const spare = extra + (live?.spare ?? 0);
    this.leases.set(key, {
      spare,
      used: Math.max(0, total - spare),
      expiresAt: Math.min(expiresAt, live?.expiresAt ?? expiresAt),
    });
  }

  /** Forgetting a lease only loses its spare hits (the caller's limit runs out a little early). */
  private sweepLeases(): void {
    const now = performance.now();
    for (const [key, lease] of this.leases) if (lease.expiresAt <= now) this.leases.delete(key);
    if (this.leases.size >= MAX_MEMORY_KEYS) this.leases.clear();
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
