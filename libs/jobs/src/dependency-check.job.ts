import { defineJob, scheduleJob } from '@app/queue';

/** Compares the installed npm packages with the registry's latest versions and stores the report. */
export const DependencyCheckJob = defineJob<Record<string, never>>('dependencies.check', {
  attempts: 2,
  backoffMs: 60_000,
});

scheduleJob(DependencyCheckJob, (config) => config.dependencyCheck.cron);
