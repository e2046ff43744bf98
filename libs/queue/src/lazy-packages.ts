import type * as NestBullMq from '@nestjs/bullmq';
import type * as BullMq from 'bullmq';
import type * as IoRedis from 'ioredis';

/*
 * BullMQ, @nestjs/bullmq and ioredis load on first use. Without REDIS_URL (the embedded default)
 * nothing needs them, and they are ~280 modules and ~10 MB of a process's memory. Everything
 * else in the framework imports their types only (`import type`), which the build erases.
 */
let bullmqModule: typeof BullMq | undefined;
let nestBullmqModule: typeof NestBullMq | undefined;
let ioredisModule: typeof IoRedis | undefined;

export function bullmq(): typeof BullMq {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  bullmqModule ??= require('bullmq') as typeof BullMq;
  return bullmqModule;
}

export function nestBullmq(): typeof NestBullMq {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  nestBullmqModule ??= require('@nestjs/bullmq') as typeof NestBullMq;
  return nestBullmqModule;
}

export function ioredis(): typeof IoRedis {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ioredisModule ??= require('ioredis') as typeof IoRedis;
  return ioredisModule;
}
