import { AuditService, captureRequestContext } from '@app/audit';
import { OneTimeTokenService } from '@app/auth';
import { AppConfig } from '@app/config';
import { TenantTransaction, User } from '@app/database';
import { passwordResetMail } from '@app/mail';
import { JobProcessor, Outbox, type JobHandler } from '@app/queue';
import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { MailSendJob } from './mail-send.job';
import { PasswordResetRequestJob, type PasswordResetRequestPayload } from './password-reset-request.job';

/**
 * Answers a password-reset request: records it (`auth.password.reset_request`, success when the
 * address has an account), and for an active account issues a reset token and puts the mail in the
 * outbox, all in one transaction, so a retried job never leaves a token without its mail.
 *
 * The token comes from the same `OneTimeTokenService` (in @app/auth) the api checks it with.
 */
@Injectable()
@JobProcessor(PasswordResetRequestJob)
export class PasswordResetRequestProcessor implements JobHandler<PasswordResetRequestPayload> {
  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly audit: AuditService,
    private readonly outbox: Outbox,
    private readonly cls: ClsService,
    private readonly tokens: OneTimeTokenService,
  ) {}

  async handle(request: PasswordResetRequestPayload): Promise<void> {
    // The audit row names the requester's address and agent, as when the request wrote it itself.
    captureRequestContext(this.cls, request.ip ?? undefined, request.userAgent);
    await this.transactions.runAsSystem(async (manager) => {
      const user = await manager
        .createQueryBuilder(User, 'user')
        .where('lower(user.email) = lower(:email)', { email: request.email })
        .getOne();
      await this.audit.record(
        {
          action: 'auth.password.reset_request',
          outcome: user ? 'success' : 'failure',
          actorId: user?.id ?? null,
          metadata: request.requestId ? { requestId: request.requestId } : {},
        },
        manager,
      );
      if (!user?.isActive) return;
      const token = await this.tokens.issue(manager, user.id, 'password_reset', this.config.auth.passwordResetTtl);
      const link = `${this.config.appUrl}/reset-password?token=${encodeURIComponent(token)}`;
      const minutes = Math.round(this.config.auth.passwordResetTtl / 60);
      await this.outbox.add(manager, MailSendJob, passwordResetMail(this.config.appName, user, link, minutes));
    });
  }
}
