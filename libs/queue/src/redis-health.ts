import { AppConfig } from '@app/config';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { createRedisConnection } from './redis-connection';

/** PING over a dedicated connection, bounded in time. Only meaningful when REDIS_URL is set. */
@Injectable()
export class RedisHealth implements OnApplicationShutdown {
  private client: Redis | undefined;

  constructor(private readonly config: AppConfig) {}

  get configured(): boolean {
    return Boolean(this.config.redisUrl);
  }

  async ping(timeoutMs = 2_000): Promise<void> {
    if (!this.config.redisUrl) return;
    this.client ??= this.createClient(this.config.redisUrl);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis ping timed out')), timeoutMs);
    });
    try {
      await Promise.race([this.client.ping(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private createClient(url: string): Redis {
    const client = createRedisConnection(url, 'probe', 'health-probe');
    // Errors surface through ping(); the listener keeps them from being unhandled.
    client.on('error', () => undefined);
    return client;
  }

  onApplicationShutdown(): void {
    this.client?.disconnect();
  }
}
