export { JobsModule } from './jobs.module';
export { MailSendJob } from './mail-send.job';
export { MailSendProcessor } from './mail-send.processor';
export { PasswordResetRequestJob, type PasswordResetRequestPayload } from './password-reset-request.job';
export { PasswordResetRequestProcessor } from './password-reset-request.processor';
export { AuditRetentionJob } from './audit-retention.job';
export { AuditRetentionProcessor } from './audit-retention.processor';
export { LlmChatJob, type LlmChatPayload } from './llm-chat.job';
export { LlmChatProcessor } from './llm-chat.processor';
export { DependencyCheckJob } from './dependency-check.job';
export { DependencyCheckProcessor, KEPT_DEPENDENCY_REPORTS } from './dependency-check.processor';
export { checkDependencies, classify } from './dependency-check';
export { AccountExportJob, type AccountExportPayload } from './account-export.job';
export { ACCOUNT_EXPORT_FORMAT, AccountExportProcessor } from './account-export.processor';
export { OrganizationPurgeJob } from './organization-purge.job';
export { OrganizationPurgeProcessor } from './organization-purge.processor';
export { OrganizationExportJob, type OrganizationExportPayload } from './organization-export.job';
export {
  ORGANIZATION_EXPORT_FORMAT,
  OrganizationExportProcessor,
  STILL_OWNER_SQL,
} from './organization-export.processor';
