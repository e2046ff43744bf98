import { AppConfig } from '@app/config';
import { MailSendJob } from '@app/jobs';
import { invitationMail, lockoutMail, verificationMail, type MailMessage } from '@app/mail';
import { Outbox } from '@app/queue';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

interface Recipient {
  email: string;
  fullName: string | null;
}

/**
 * The account mails, written to the outbox in the caller's unit of work: the mail goes out if and
 * only if the change it announces commits, and a queue outage only delays it.
 */
@Injectable()
export class AccountMailer {
  constructor(
    private readonly config: AppConfig,
    private readonly outbox: Outbox,
  ) {}

  verification(manager: EntityManager, user: Recipient, token: string): Promise<void> {
    const link = `${this.config.appUrl}/verify-email?token=${encodeURIComponent(token)}`;
    return this.send(
      manager,
      verificationMail(this.config.appName, user, link, Math.round(this.config.auth.emailVerificationTtl / 3600)),
    );
  }

  lockout(manager: EntityManager, user: Recipient): Promise<void> {
    return this.send(
      manager,
      lockoutMail(this.config.appName, user, Math.ceil(this.config.auth.lockoutDurationSeconds / 60)),
    );
  }

  invitation(
    manager: EntityManager,
    email: string,
    token: string,
    organizationName: string,
    inviterName: string | null,
  ): Promise<void> {
    const link = `${this.config.appUrl}/accept-invitation?token=${encodeURIComponent(token)}`;
    const days = Math.max(1, Math.round(this.config.auth.invitationTtl / 86400));
    return this.send(
      manager,
      invitationMail(this.config.appName, email, { organizationName, inviterName, link, days }),
    );
  }

  private async send(manager: EntityManager, message: MailMessage): Promise<void> {
    await this.outbox.add(manager, MailSendJob, message);
  }
}
