import { defineJob, scheduleJob } from '@app/queue';

/** Deletes audit rows older than AUDIT_RETENTION_DAYS, on AUDIT_RETENTION_CRON (only when the days are set). */
export const AuditRetentionJob = defineJob<Record<string, never>>('audit.retention', {
  attempts: 3,
  backoffMs: 60_000,
});

scheduleJob(AuditRetentionJob, (config) => (config.auditRetention.days ? config.auditRetention.cron : undefined));
