export {
  DEFAULT_QUEUE,
  defineJob,
  definedJobs,
  jobDefinition,
  retryDelayMs,
  type EnqueueOptions,
  type JobContext,
  type JobDefinition,
  type JobHandler,
} from './job-definition';
export { JobProcessor } from './job-processor.decorator';
export { JobQueue } from './job-queue';
export { InProcessJobQueue } from './in-process-job-queue';
export { BullMqJobQueue, JOB_RETENTION } from './bullmq-job-queue';
export { BullMqWorkerHost } from './bullmq-worker-host';
export { ProcessorRegistry } from './processor-registry';
export { QueueModule } from './queue.module';
export { createRedisConnection } from './redis-connection';
export { RedisHealth } from './redis-health';
export { InvalidationBus } from './invalidation-bus';
export { Outbox, OutboxRelay } from './outbox';
export { BullMqDeadLetters, DeadLetters, InProcessDeadLetters, type DeadLetter } from './dead-letters';
export { JobScheduler, nextRun, scheduleJob, type JobSchedule } from './job-scheduler';
