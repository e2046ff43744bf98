import type { AuditEvent, AuditService } from '@app/audit';
import { generateSecret } from '@app/auth';
import type { AppConfig } from '@app/config';
import { AccountExport } from '@app/database';
import type { MailMessage } from '@app/mail';
import type { Outbox } from '@app/queue';
import type { EntityManager } from 'typeorm';
import { MailSendJob } from './mail-send.job';

/**
 * The last step of every export job, inside its transaction: stores the archive with the SHA-256
 * of a new single-use token and its expiry (ACCOUNT_EXPORT_TTL), records `ready`, and puts the mail
 * with the link into the outbox. `mail` builds the message from the link and the hours it lives.
 */
export async function deliverExport(
  deps: { config: AppConfig; audit: AuditService; outbox: Outbox },
  manager: EntityManager,
  exportId: string,
  archive: unknown,
  ready: AuditEvent,
  mail: (link: string, hours: number) => MailMessage,
): Promise<void> {
  const ttl = deps.config.auth.accountExportTtl;
  const { token, hash } = generateSecret('exp_');
  await manager.update(
    AccountExport,
    { id: exportId },
    {
      status: 'ready',
      archive: JSON.stringify(archive),
      tokenHash: hash,
      expiresAt: new Date(Date.now() + ttl * 1000),
      completedAt: new Date(),
    },
  );
  await deps.audit.record(ready, manager);
  const link = `${deps.config.appUrl}/account/export?token=${encodeURIComponent(token)}`;
  await deps.outbox.add(manager, MailSendJob, mail(link, Math.max(1, Math.round(ttl / 3600))));
}
