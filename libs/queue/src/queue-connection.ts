import { AppConfig } from '@app/config';
import { Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { createRedisConnection } from './redis-connection';

/** The one Redis connection BullModule's queues share in this process (BullMQ never closes a shared one). */
export const QUEUE_CONNECTION = Symbol('QUEUE_CONNECTION');

@Injectable()
class QueueConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(QUEUE_CONNECTION) private readonly connection: Redis) {}

  onApplicationShutdown(): void {
    // Queues with a shared connection only detach from it on close; ending it is ours.
    this.connection.disconnect();
  }
}

/**
 * Owns the shared connection handed to `BullModule.forRootAsync` (the api's producer connection
 * fails fast while Redis is away; the worker's waits, as blocking commands must).
 */
@Module({})
export class QueueConnectionModule {
  static forRole(role: 'producer' | 'worker') {
    return {
      module: QueueConnectionModule,
      providers: [
        {
          provide: QUEUE_CONNECTION,
          inject: [AppConfig],
          useFactory: (config: AppConfig): Redis => {
            if (!config.redisUrl) throw new Error('The BullMQ queues need REDIS_URL');
            const connection = createRedisConnection(
              config.redisUrl,
              role,
              role === 'worker' ? 'worker-queues' : 'api-producer',
            );
            const logger = new Logger('BullModule');
            connection.on('error', (error: Error) => logger.warn(`redis: ${error.message}`));
            return connection;
          },
        },
        QueueConnectionCloser,
      ],
      exports: [QUEUE_CONNECTION],
    };
  }
}
