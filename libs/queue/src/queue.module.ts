import { AppConfig } from '@app/config';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { frameworkQueues } from './job-definition';
import { QUEUE_CONNECTION, QueueConnectionModule } from './queue-connection';
import { DiscoveryModule } from '@nestjs/core';
import { BullMqJobQueue } from './bullmq-job-queue';
import { BullMqWorkerHost } from './bullmq-worker-host';
import { InProcessJobQueue } from './in-process-job-queue';
import { JobQueue } from './job-queue';
import { ProcessorRegistry } from './processor-registry';
import { InvalidationBus } from './invalidation-bus';
import { BullMqDeadLetters, DeadLetters, InProcessDeadLetters } from './dead-letters';
import { RedisEvictionCheck } from './redis-eviction-check';
import { RedisHealth } from './redis-health';
import { Outbox, OutboxRelay } from './outbox';
import { JobScheduler } from './job-scheduler';
import { nestBullmq } from './lazy-packages';

/**
 * The queue seam: JobQueue is BullMQ with REDIS_URL, in-process without.
 * `worker: true` (apps/worker) also hosts the BullMQ workers.
 */
@Global()
@Module({})
export class QueueModule {
  static forRoot(config: AppConfig, options: { worker?: boolean } = {}): DynamicModule {
    const providers = [
      ProcessorRegistry,
      RedisHealth,
      RedisEvictionCheck,
      InvalidationBus,
      { provide: JobQueue, useClass: config.redisUrl ? BullMqJobQueue : InProcessJobQueue },
      ...(config.redisUrl
        ? [{ provide: DeadLetters, useClass: BullMqDeadLetters }]
        : [InProcessDeadLetters, { provide: DeadLetters, useExisting: InProcessDeadLetters }]),
      Outbox,
      OutboxRelay,
      JobScheduler,
      ...(options.worker ? [BullMqWorkerHost] : []),
    ];
    // With Redis, BullMQ's queues come from @nestjs/bullmq: one shared connection, a queue per name
    // the loaded job definitions use (each injectable with @InjectQueue), closed by Nest on shutdown.
    // Team-written @Processor classes are never started by the module itself (manual registration):
    // only the worker starts them (BullMqWorkerHost), so an api process never consumes a queue.
    const connection = QueueConnectionModule.forRole(options.worker ? 'worker' : 'producer');
    const bullModule = config.redisUrl ? nestBullmq().BullModule : undefined;
    const bull = bullModule
      ? [
          connection,
          bullModule.forRootAsync({
            imports: [connection],
            inject: [QUEUE_CONNECTION, AppConfig],
            useFactory: (connection: Redis, appConfig: AppConfig) => ({
              connection,
              prefix: appConfig.queuePrefix,
            }),
            extraOptions: { manualRegistration: true },
          }),
          bullModule.registerQueue(...frameworkQueues().map((name) => ({ name }))),
        ]
      : [];
    return {
      module: QueueModule,
      imports: [DiscoveryModule, ...bull],
      providers,
      exports: [
        JobQueue,
        DeadLetters,
        ProcessorRegistry,
        RedisHealth,
        InvalidationBus,
        Outbox,
        OutboxRelay,
        JobScheduler,
        ...(options.worker ? [BullMqWorkerHost] : []),
      ],
    };
  }
}
