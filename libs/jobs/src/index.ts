export { JobsModule } from './jobs.module';
export { MailSendJob } from './mail-send.job';
export { MailSendProcessor } from './mail-send.processor';
export { AuditRetentionJob } from './audit-retention.job';
export { AuditRetentionProcessor } from './audit-retention.processor';
export { LlmChatJob, type LlmChatPayload } from './llm-chat.job';
export { LlmChatProcessor } from './llm-chat.processor';
