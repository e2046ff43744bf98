import { AppLogger, createRootLogger } from '@app/common';
import type { AppConfig } from '@app/config';
import { BullMqWorkerHost } from '@app/queue';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WorkerModule } from './worker.module';

/** Boots the worker's application context and starts consuming its queues. */
export async function createWorker(
  config: AppConfig,
  logger: AppLogger = new AppLogger(createRootLogger(config.logLevel, 'worker', undefined, config.logFormat)),
  /** A team's modules (apps/worker/src/worker-modules.ts), and tests of the queue's building blocks. */
  extraModules: Type[] = [],
): Promise<{ app: INestApplicationContext; queues: string[] }> {
  if (!config.redisUrl) {
    throw new Error('REDIS_URL is not set: without Redis, jobs run inside the api and no worker is needed.');
  }
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, extraModules), {
    logger,
    abortOnError: false,
  });
  await app.init();
  try {
    const queues = await app.get(BullMqWorkerHost).start();
    return { app, queues };
  } catch (error) {
    // Nothing half-started stays open: pools, Redis connections, workers already made.
    await app.close().catch(() => undefined);
    throw error;
  }
}
