import { AppConfig } from '@app/config';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { createRedisConnection } from './redis-connection';

type Handler = (payload: unknown) => void;

/**
 * Tells every replica to drop cached state (sessions, permissions). Handlers run locally at once
 * and, with REDIS_URL, on the other replicas through Redis pub/sub. Pub/sub delivers at most once:
 * while the subscription is down (`live` is false) caches must not be trusted, and every reset
 * handler runs when it comes back, since messages sent meanwhile are lost.
 */
@Injectable()
export class InvalidationBus implements OnApplicationShutdown {
  private readonly logger = new Logger('InvalidationBus');
  private readonly handlers = new Map<string, Handler[]>();
  private readonly resetHandlers: Array<() => void> = [];
  private publisher: Redis | undefined;
  private subscriber: Redis | undefined;

  constructor(private readonly config: AppConfig) {}

  /** True when no other replica can miss a message: no Redis (one replica), or a live subscription. */
  get live(): boolean {
    return !this.config.redisUrl || this.subscriber?.status === 'ready';
  }

  on(topic: string, handler: Handler): void {
    const existing = this.handlers.get(topic);
    if (existing) {
      existing.push(handler);
      return;
    }
    this.handlers.set(topic, [handler]);
    const subscriber = this.connect();
    // Not awaited: start-up must not wait for Redis; ioredis subscribes again on reconnect.
    subscriber?.subscribe(this.channel(topic)).catch((error: unknown) => {
      this.logger.warn(`could not subscribe to ${topic}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  onReset(handler: () => void): void {
    this.resetHandlers.push(handler);
  }

  /** Call after the change is committed. */
  async publish(topic: string, payload: unknown): Promise<void> {
    this.dispatch(topic, payload);
    this.connect();
    if (!this.publisher) return;
    try {
      await this.publisher.publish(this.channel(topic), JSON.stringify(payload));
    } catch (error) {
      this.logger.error(
        `could not broadcast ${topic}; other replicas rely on their cache lifetime: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
  }

  private channel(topic: string): string {
    return `${this.config.queuePrefix}:invalidate:${topic}`;
  }

  private connect(): Redis | undefined {
    if (!this.config.redisUrl) return undefined;
    if (this.subscriber) return this.subscriber;
    this.publisher = createRedisConnection(this.config.redisUrl, 'probe', 'invalidation-publisher');
    this.subscriber = createRedisConnection(this.config.redisUrl, 'worker', 'invalidation-subscriber');
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (error: Error) => this.logger.warn(`redis: ${error.message}`));
    }
    const reset = () => this.resetHandlers.forEach((handler) => handler());
    this.subscriber.on('ready', reset);
    this.subscriber.on('close', reset);
    this.subscriber.on('message', (channel: string, message: string) => {
      const prefix = this.channel('');
      if (!channel.startsWith(prefix)) return;
      try {
        this.dispatch(channel.slice(prefix.length), JSON.parse(message));
      } catch {
        this.logger.warn(`ignored a malformed message on ${channel}`);
      }
    });
    return this.subscriber;
  }

  private dispatch(topic: string, payload: unknown): void {
    for (const handler of this.handlers.get(topic) ?? []) handler(payload);
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
    this.publisher?.disconnect();
  }
}
