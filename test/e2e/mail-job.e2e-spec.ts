import { MailSendJob } from '@app/jobs';
import { MailService } from '@app/mail';
import { type InProcessJobQueue, JobQueue } from '@app/queue';
import { createTestApp, startSmtpSink, type SmtpSink, type TestApp } from '@app/testing';

/** The mail.send job on the embedded default: queued in-process, delivered over real SMTP. */
describe('mail.send job (in-process queue)', () => {
  let smtp: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'Framework <robot@example.test>' } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  it('uses the in-process driver when REDIS_URL is unset', () => {
    expect(t.app.get(JobQueue).driver).toBe('in-process');
    expect(t.app.get(MailService).driver).toBe('smtp');
  });

  it('delivers the message through SMTP', async () => {
    const queue = t.app.get(JobQueue);
    const jobId = await queue.enqueue(MailSendJob, {
      to: 'ann@example.test',
      subject: 'Welcome aboard',
      text: 'Hello Ann',
      html: '<p>Hello Ann</p>',
    });
    const mail = await smtp.waitFor((m) => m.subject === 'Welcome aboard');
    expect(mail).toMatchObject({ from: 'robot@example.test', to: ['ann@example.test'], html: '<p>Hello Ann</p>' });
    expect(mail.text.trim()).toBe('Hello Ann');
    // The job id is the Message-ID, so a retried send is recognisable downstream.
    expect(mail.messageId).toContain(jobId);
  });

  it('runs a job id once even if it is enqueued twice', async () => {
    const queue = t.app.get(JobQueue);
    const payload = { to: 'bob@example.test', subject: 'Once only', text: 'x' };
    await queue.enqueue(MailSendJob, payload, { jobId: 'dedupe-1' });
    await queue.enqueue(MailSendJob, payload, { jobId: 'dedupe-1' });
    await (queue as InProcessJobQueue).drain();
    expect(smtp.messages.filter((m) => m.subject === 'Once only')).toHaveLength(1);
  });
});

describe('mail without SMTP_URL', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('logs instead of sending, and the job succeeds', async () => {
    const mail = t.app.get(MailService);
    expect(mail.driver).toBe('log');
    await expect(mail.send({ to: 'x@example.test', subject: 's', text: 't' })).resolves.toBeUndefined();
  });
});
