import { OneTimeTokenService } from '@app/auth';
import { Module } from '@nestjs/common';
import { AccountExportProcessor } from './account-export.processor';
import { AuditRetentionProcessor } from './audit-retention.processor';
import { OrganizationExportProcessor } from './organization-export.processor';
import { OrganizationPurgeProcessor } from './organization-purge.processor';
import { DependencyCheckProcessor } from './dependency-check.processor';
import { LlmChatProcessor } from './llm-chat.processor';
import { MailSendProcessor } from './mail-send.processor';
import { PasswordResetRequestProcessor } from './password-reset-request.processor';

/** Every job processor. Both apps import it: the worker runs them; the api runs them in-process without Redis. */
@Module({
  providers: [
    MailSendProcessor,
    PasswordResetRequestProcessor,
    AuditRetentionProcessor,
    LlmChatProcessor,
    DependencyCheckProcessor,
    AccountExportProcessor,
    OrganizationPurgeProcessor,
    OrganizationExportProcessor,
    // Stateless; the worker loads no AuthModule, so the job that issues reset tokens brings its own.
    OneTimeTokenService,
  ],
})
export class JobsModule {}
