import type { Redis, RedisOptions } from 'ioredis';
import { ioredis } from './lazy-packages';

const ROLE_OPTIONS: Record<'producer' | 'worker' | 'probe', RedisOptions> = {
  // Enqueueing fails fast while Redis is away instead of queueing commands in memory.
  producer: { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 },
  // BullMQ workers use blocking commands and must wait for Redis to come back.
  worker: { maxRetriesPerRequest: null, enableReadyCheck: true },
  // Health probes wait for the first connection; the caller bounds the wait.
  probe: { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 2_000 },
};

export function createRedisConnection(
  url: string,
  role: 'producer' | 'worker' | 'probe',
  name: string,
  extra: RedisOptions = {},
): Redis {
  return new (ioredis().Redis)(url, { ...ROLE_OPTIONS[role], ...extra, connectionName: name });
}
