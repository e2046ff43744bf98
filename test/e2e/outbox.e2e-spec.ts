import { MailSendJob } from '@app/jobs';
import { OutboxMessage, TenantTransaction } from '@app/database';
import { Outbox, OutboxRelay } from '@app/queue';
import { createTestApp, startSmtpSink, type SmtpSink, type TestApp } from '@app/testing';

/** Jobs written in the transaction of the change that causes them: sent if and only if it commits. */
describe('transactional outbox', () => {
  let smtp: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: smtp.url } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const rows = (subject: string) =>
    t.app
      .get(TenantTransaction)
      .runAsSystem((m) =>
        m.createQueryBuilder(OutboxMessage, 'o').where("o.payload->>'subject' = :subject", { subject }).getMany(),
      );

  it('publishes a committed job once, with the row id as the job id', async () => {
    const id = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) =>
        t.app
          .get(Outbox)
          .add(m, MailSendJob, { to: 'ok@example.test', subject: 'Committed', text: 'sent after commit' }),
      );
    const mail = await smtp.waitFor((m) => m.subject === 'Committed');
    expect(mail.messageId).toContain(id);
    await t.app.get(OutboxRelay).flush();
    const [row] = await rows('Committed');
    expect(row).toMatchObject({ id, publishAttempts: 1, lastError: null });
    expect(row?.publishedAt).not.toBeNull();
  });

  it('writes nothing and sends nothing when the transaction rolls back', async () => {
    const failed = t.app.get(TenantTransaction).runAsSystem(async (m) => {
      await t.app.get(Outbox).add(m, MailSendJob, { to: 'no@example.test', subject: 'Rolled back', text: 'never' });
      throw new Error('the business change failed');
    });
    await expect(failed).rejects.toThrow('the business change failed');
    await t.app.get(OutboxRelay).flush();
    expect(await rows('Rolled back')).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.messages.some((m) => m.subject === 'Rolled back')).toBe(false);
  });

  it('publishes rows left over from an earlier process on start-up', async () => {
    // Written directly, as if the process that committed it died before publishing.
    await t.app
      .get(TenantTransaction)
      .runAsSystem((m) =>
        m.query(`INSERT INTO outbox (id, job_name, payload) VALUES (gen_random_uuid(), 'mail.send', $1)`, [
          JSON.stringify({ to: 'late@example.test', subject: 'Left over', text: 'from before' }),
        ]),
      );
    await t.app.get(OutboxRelay).flush();
    await smtp.waitFor((m) => m.subject === 'Left over');
  });
});
