import { AppConfig } from '@app/config';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { createRedisConnection } from './redis-connection';

/**
 * BullMQ keeps jobs, locks and the outbox's hand-offs in Redis: a server that evicts keys under
 * memory pressure loses them silently. At start, with REDIS_URL, the server's `maxmemory-policy`
 * is read (INFO, which managed services allow where CONFIG is often renamed) and anything but
 * `noeviction` is reported: a warning, or a refusal to start with REDIS_EVICTION_POLICY_CHECK=refuse.
 */
@Injectable()
export class RedisEvictionCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('Redis');

  constructor(private readonly config: AppConfig) {}

  async onApplicationBootstrap(): Promise<void> {
    const mode = this.config.redisEvictionPolicyCheck;
    if (!this.config.redisUrl || mode === 'off') return;
    const policy = await this.readPolicy(this.config.redisUrl);
    if (policy === 'noeviction') return;
    const detail =
      policy === undefined
        ? 'could not read maxmemory-policy (INFO memory refused or unanswered); it must be noeviction'
        : `maxmemory-policy is ${policy}; BullMQ needs noeviction, or Redis may drop jobs and locks under memory pressure`;
    if (mode === 'refuse' && policy !== undefined) {
      throw new Error(
        `Redis: ${detail} (REDIS_EVICTION_POLICY_CHECK=refuse). Set it on the server: docs/background-jobs.md.`,
      );
    }
    this.logger.warn(`${detail}. See docs/background-jobs.md ("Redis").`);
  }

  private async readPolicy(url: string): Promise<string | undefined> {
    const client = createRedisConnection(url, 'probe', 'eviction-check');
    client.on('error', () => undefined);
    try {
      const info = await Promise.race([
        client.info('memory'),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3_000).unref()),
      ]);
      return info ? /^maxmemory_policy:(\S+)/m.exec(info)?.[1] : undefined;
    } catch {
      return undefined;
    } finally {
      client.disconnect();
    }
  }
}
