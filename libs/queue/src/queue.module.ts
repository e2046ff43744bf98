import type { AppConfig } from '@app/config';
import { Global, Module, type DynamicModule } from '@nestjs/common';
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
    return {
      module: QueueModule,
      imports: [DiscoveryModule],
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
