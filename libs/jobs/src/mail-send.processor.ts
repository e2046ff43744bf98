import { MailService, type MailMessage } from '@app/mail';
import { JobProcessor, type JobContext, type JobHandler } from '@app/queue';
import { Injectable } from '@nestjs/common';
import { MailSendJob } from './mail-send.job';

@Injectable()
@JobProcessor(MailSendJob)
export class MailSendProcessor implements JobHandler<MailMessage> {
  constructor(private readonly mail: MailService) {}

  async handle(message: MailMessage, context: JobContext): Promise<void> {
    await this.mail.send(message, context.id);
  }
}
