import { AppConfig } from '@app/config';
import { MailSendJob } from '@app/jobs';
import { invitationMail, lockoutMail, passwordResetMail, verificationMail, type MailMessage } from '@app/mail';
import { JobQueue } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';

interface Recipient {
  email: string;
  fullName: string | null;
}

/**
 * Queues the account mails. Called after the change they announce is committed; a queue failure
 * is logged, not thrown: the account change stands and the user can ask for the mail again.
 */
@Injectable()
export class AccountMailer {
  private readonly logger = new Logger('AccountMailer');

  constructor(
    private readonly config: AppConfig,
    private readonly jobs: JobQueue,
  ) {}

  verification(user: Recipient, token: string): Promise<void> {
    const link = `${this.config.appUrl}/verify-email?token=${encodeURIComponent(token)}`;
    return this.send(
      verificationMail(this.config.appName, user, link, Math.round(this.config.auth.emailVerificationTtl / 3600)),
    );
  }

  passwordReset(user: Recipient, token: string): Promise<void> {
    const link = `${this.config.appUrl}/reset-password?token=${encodeURIComponent(token)}`;
    return this.send(
      passwordResetMail(this.config.appName, user, link, Math.round(this.config.auth.passwordResetTtl / 60)),
    );
  }

  lockout(user: Recipient): Promise<void> {
    return this.send(lockoutMail(this.config.appName, user, Math.ceil(this.config.auth.lockoutDurationSeconds / 60)));
  }

  invitation(email: string, token: string, organizationName: string, inviterName: string | null): Promise<void> {
    const link = `${this.config.appUrl}/accept-invitation?token=${encodeURIComponent(token)}`;
    const days = Math.max(1, Math.round(this.config.auth.invitationTtl / 86400));
    return this.send(invitationMail(this.config.appName, email, { organizationName, inviterName, link, days }));
  }

  private async send(message: MailMessage): Promise<void> {
    try {
      await this.jobs.enqueue(MailSendJob, message);
    } catch (error) {
      this.logger.error(
        `could not queue "${message.subject}": ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
