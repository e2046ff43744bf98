import type { Redis } from 'ioredis';

/**
 * What the SP has to remember between requests: the AuthnRequest ids it sent (each answered
 * once) and the assertion ids it accepted (each accepted once). Shared by all replicas in
 * production (Redis), in memory for one process.
 */
export interface SamlStateStore {
  saveRequest(requestId: string, connectionId: string, ttlMs: number): Promise<void>;
  /** The connection id the request was sent for, once: later calls (and expired ids) get undefined. */
  takeRequest(requestId: string): Promise<string | undefined>;
  /** True the first time a key is seen within ttlMs, false afterwards. */
  firstUse(assertionId: string, ttlMs: number): Promise<boolean>;
}

export interface MemorySamlStateStoreOptions {
  /** Default 10 000. When full, the oldest request is forgotten (its sign-in fails). */
  maxRequests?: number;
  /** Default 100 000. When full of live entries, firstUse answers false: refusing beats forgetting. */
  maxAssertions?: number;
}

/** A bounded in-process store, for a single replica and for tests. */
export class MemorySamlStateStore implements SamlStateStore {
  private readonly requests = new Map<string, { connectionId: string; expiresAt: number }>();
  private readonly assertions = new Map<string, number>();
  private readonly maxRequests: number;
  private readonly maxAssertions: number;

  constructor(options: MemorySamlStateStoreOptions = {}) {
    this.maxRequests = options.maxRequests ?? 10_000;
    this.maxAssertions = options.maxAssertions ?? 100_000;
  }

  saveRequest(requestId: string, connectionId: string, ttlMs: number): Promise<void> {
    const now = Date.now();
    if (this.requests.size >= this.maxRequests) {
      this.sweep(this.requests, now, (entry) => entry.expiresAt);
      while (this.requests.size >= this.maxRequests) {
        const oldest = this.requests.keys().next();
        if (oldest.done) break;
        this.requests.delete(oldest.value);
      }
    }
    this.requests.set(requestId, { connectionId, expiresAt: now + ttlMs });
    return Promise.resolve();
  }

  takeRequest(requestId: string): Promise<string | undefined> {
    const entry = this.requests.get(requestId);
    this.requests.delete(requestId);
    return Promise.resolve(entry && entry.expiresAt > Date.now() ? entry.connectionId : undefined);
  }

  firstUse(assertionId: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const seenUntil = this.assertions.get(assertionId);
    if (seenUntil !== undefined && seenUntil > now) return Promise.resolve(false);
    this.assertions.delete(assertionId);
    if (this.assertions.size >= this.maxAssertions) {
      this.sweep(this.assertions, now, (expiresAt) => expiresAt);
      if (this.assertions.size >= this.maxAssertions) return Promise.resolve(false);
    }
    this.assertions.set(assertionId, now + ttlMs);
    return Promise.resolve(true);
  }

  private sweep<T>(map: Map<string, T>, now: number, expiry: (value: T) => number): void {
    for (const [key, value] of map) if (expiry(value) <= now) map.delete(key);
  }
}

/**
 * The store on Redis, shared by replicas: SET NX PX to save (an id is never overwritten) and to
 * mark an assertion used, GETDEL to take a request (atomic: two concurrent posts of one response
 * cannot both take it). Needs Redis 6.2 or later.
 */
export class RedisSamlStateStore implements SamlStateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async saveRequest(requestId: string, connectionId: string, ttlMs: number): Promise<void> {
    const saved = await this.redis.set(this.key('request', requestId), connectionId, 'PX', milliseconds(ttlMs), 'NX');
    if (saved !== 'OK') throw new Error('SAML request id already in use');
  }

  async takeRequest(requestId: string): Promise<string | undefined> {
    return (await this.redis.getdel(this.key('request', requestId))) ?? undefined;
  }

  async firstUse(assertionId: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.key('assertion', assertionId), '1', 'PX', milliseconds(ttlMs), 'NX')) === 'OK';
  }

  private key(kind: 'request' | 'assertion', id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }
}

function milliseconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}
