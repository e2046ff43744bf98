import { defineJob, scheduleJob } from '@app/queue';

/** Deletes organizations whose scheduled deletion is due, on ORGANIZATION_PURGE_CRON. */
export const OrganizationPurgeJob = defineJob<Record<string, never>>('organization.purge', {
  attempts: 3,
  backoffMs: 60_000,
});

scheduleJob(OrganizationPurgeJob, (config) => config.auth.organizationPurgeCron);
