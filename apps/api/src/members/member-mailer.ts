import { AppConfig } from '@app/config';
import { MailSendJob } from '@app/jobs';
import { notificationMail, quoteUserText } from '@app/mail';
import { Outbox } from '@app/queue';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** Tells a person they were made a member without an invitation, in the unit of work that did it. */
@Injectable()
export class MemberMailer {
  constructor(
    private readonly config: AppConfig,
    private readonly outbox: Outbox,
  ) {}

  async memberAdded(
    manager: EntityManager,
    user: { email: string; fullName: string | null },
    organizationName: string,
    addedBy: string | null,
  ): Promise<void> {
    const message = notificationMail(this.config.appName, user, {
      // No user-chosen text in the subject: it is what a mail client shows before anything else.
      subject: `You were added to an organization on ${this.config.appName}`,
      paragraphs: [
        `${addedBy ? quoteUserText(addedBy) : 'Someone'} added you to the organization ${quoteUserText(organizationName)}.`,
        'You can see it in your list of organizations, and leave it there if you do not want to be a member.',
      ],
      action: { label: `Open ${this.config.appName}`, url: this.config.appUrl },
    });
    await this.outbox.add(manager, MailSendJob, message);
  }
}
