import type { MailMessage } from '@app/mail';
import { defineJob } from '@app/queue';

/** Send one email. Retried with backoff; the job id doubles as the Message-ID, so retries are recognisable. */
export const MailSendJob = defineJob<MailMessage>('mail.send', { attempts: 5, backoffMs: 2_000 });
