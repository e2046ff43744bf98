import { MailSendJob } from '@app/jobs';
import { JobQueue } from '@app/queue';
import {
  createTestApp,
  readServicesEnv,
  startProcess,
  startSmtpSink,
  type AppProcess,
  type SmtpSink,
  type TestApp,
} from '@app/testing';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A worker is killed (SIGKILL) in the middle of a job: another worker takes the job over once its
 * lock lapses, and its effect (a delivered mail) happens once.
 */
describe('worker killed mid-job', () => {
  const services = readServicesEnv();
  if (!services) throw new Error('run with npm run test:services');
  const queuePrefix = `k${Date.now().toString(36)}`;
  let smtp: SmtpSink;
  let api: TestApp;
  const workers: AppProcess[] = [];

  const startWorker = async () => {
    const worker = startProcess('worker', {
      DATABASE_URL: api.config.database.kind === 'postgres' ? api.config.database.url : undefined,
      REDIS_URL: services.redisUrl,
      QUEUE_PREFIX: queuePrefix,
      SMTP_URL: smtp.url,
      // Short, so the takeover comes within the test's time.
      WORKER_LOCK_MS: '2000',
    });
    workers.push(worker);
    await worker.waitForOutput(/worker ready/);
    return worker;
  };

  beforeAll(async () => {
    // The first delivery of the crash mail is never acknowledged: its worker is stuck in the job.
    smtp = await startSmtpSink({ holdFirst: (mail) => mail.subject === 'Crash test' });
    api = await createTestApp({ redis: true, env: { QUEUE_PREFIX: queuePrefix, SMTP_URL: smtp.url } });
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop('SIGKILL');
    await api?.close();
    await smtp?.close();
  });

  it('hands the job to another worker, which delivers the mail once', async () => {
    const first = await startWorker();
    const jobId = await api.app.get(JobQueue).enqueue(MailSendJob, {
      to: 'crash@example.test',
      subject: 'Crash test',
      text: 'sent twice, delivered once',
    });
    for (let i = 0; i < 200 && smtp.held.length === 0; i++) await sleep(50);
    expect(smtp.held.map((mail) => mail.subject)).toEqual(['Crash test']);
    expect(smtp.messages.filter((mail) => mail.subject === 'Crash test')).toEqual([]);

    await first.stop('SIGKILL');
    await startWorker();
    const delivered = await smtp.waitFor((mail) => mail.subject === 'Crash test', 30_000);
    expect(delivered.messageId).toContain(jobId);
    // Give a duplicate every chance to show up.
    await sleep(3_000);
    expect(smtp.messages.filter((mail) => mail.subject === 'Crash test')).toHaveLength(1);
  }, 60_000);
});
