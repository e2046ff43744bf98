import type { Type } from '@nestjs/common';

/**
 * Your modules the worker loads beside the framework's: those holding @JobProcessor handlers of
 * jobs you defined, and @nestjs/bullmq `@Processor` classes (docs/background-jobs.md). A processor
 * only in an api module runs in the api without Redis, but no worker ever loads it: list its
 * module here too.
 */
export const WORKER_MODULES: Type[] = [];
