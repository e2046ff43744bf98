import { MailSendJob } from '@app/jobs';
import { JobQueue } from '@app/queue';
import {
  bearer,
  createTestApp,
  freePort,
  registerAndLogin,
  startOpenAiStandIn,
  type OpenAiStandIn,
  readServicesEnv,
  startProcess,
  startSmtpSink,
  tokenFromMail,
  type AppProcess,
  type SmtpSink,
  type TestApp,
} from '@app/testing';

/** The BullMQ path: the api enqueues in Redis, the real worker process delivers over SMTP. */
describe('worker process (BullMQ on Redis)', () => {
  const services = readServicesEnv();
  if (!services) throw new Error('run with npm run test:services');
  const queuePrefix = `w${Date.now().toString(36)}`;
  let smtp: SmtpSink;
  let llm: OpenAiStandIn;
  let api: TestApp;
  let worker: AppProcess;
  let healthPort: number;
  const probe = (path: string) => fetch(`http://127.0.0.1:${healthPort}${path}`);

  beforeAll(async () => {
    smtp = await startSmtpSink();
    llm = await startOpenAiStandIn();
    const shared = { QUEUE_PREFIX: queuePrefix, SMTP_URL: smtp.url, OPENAI_BASE_URL: llm.url, OPENAI_API_KEY: 'sk-w' };
    api = await createTestApp({ redis: true, env: shared });
    healthPort = await freePort();
    worker = startProcess('worker', {
      DATABASE_URL: api.config.database.kind === 'postgres' ? api.config.database.url : undefined,
      REDIS_URL: services.redisUrl,
      ...shared,
      MAIL_FROM: 'Worker <worker@example.test>',
      WORKER_HEALTH_PORT: String(healthPort),
      HOST: '127.0.0.1',
    });
    await worker.waitForOutput(/worker ready/);
  });
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await api?.close();
    await smtp?.close();
    await llm?.close();
  });

  it('the api uses the BullMQ driver when REDIS_URL is set, and readiness checks Redis', async () => {
    expect(api.app.get(JobQueue).driver).toBe('bullmq');
    const res = await api.inject({ method: 'GET', url: '/api/v1/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', checks: { database: 'up', redis: 'up' } });
  });

  it('builds an account export in the worker and mails its single-use link', async () => {
    const ann = await registerAndLogin(api, 'worker-export');
    const requested = await api.inject({
      method: 'POST',
      url: '/api/v1/users/me/export',
      headers: bearer(ann.tokens.access_token),
    });
    expect(requested.statusCode).toBe(202);
    const token = await tokenFromMail(smtp, ann.email, /data export/);
    const mail = smtp.messages.find((m) => m.to.includes(ann.email) && /data export/.test(m.subject));
    expect(mail?.from).toBe('worker@example.test');
    const download = await api.inject({
      method: 'POST',
      url: '/api/v1/users/me/export/download',
      payload: { token },
    });
    expect(download.statusCode).toBe(200);
    expect(download.json()).toMatchObject({ format: 'saas-account-export/1', profile: { id: ann.userId } });
  });

  it('delivers a mail.send job enqueued by the api', async () => {
    const jobId = await api.app.get(JobQueue).enqueue(MailSendJob, {
      to: 'carol@example.test',
      subject: 'Through the worker',
      text: 'queued in Redis',
    });
    const mail = await smtp.waitFor((m) => m.subject === 'Through the worker');
    expect(mail).toMatchObject({ from: 'worker@example.test', to: ['carol@example.test'] });
    expect(mail.messageId).toContain(jobId);
  });

  it('runs a job id once even when enqueued twice', async () => {
    const queue = api.app.get(JobQueue);
    const payload = { to: 'dan@example.test', subject: 'Dedupe through Redis', text: 'x' };
    await queue.enqueue(MailSendJob, payload, { jobId: `dedupe-${queuePrefix}` });
    await queue.enqueue(MailSendJob, payload, { jobId: `dedupe-${queuePrefix}` });
    await smtp.waitFor((m) => m.subject === 'Dedupe through Redis');
    // Give a duplicate every chance to arrive before counting.
    await queue.enqueue(MailSendJob, { to: 'dan@example.test', subject: 'Marker', text: 'x' });
    await smtp.waitFor((m) => m.subject === 'Marker');
    expect(smtp.messages.filter((m) => m.subject === 'Dedupe through Redis')).toHaveLength(1);
  });

  it('runs a queued LLM chat: the api answers 202, the worker calls the provider and stores the answer', async () => {
    const owner = await registerAndLogin(api, 'worker-llm');
    const headers = bearer(owner.tokens.access_token);
    const orgId = (
      await api.inject({ method: 'POST', url: '/api/v1/organizations', headers, payload: { name: 'LLM' } })
    ).json<{ id: string }>().id;
    const accepted = await api.inject({
      method: 'POST',
      url: `/api/v1/organizations/${orgId}/llm/jobs`,
      headers,
      payload: { messages: [{ role: 'user', content: 'from the worker' }] },
    });
    expect(accepted.statusCode).toBe(202);
    const { id } = accepted.json<{ id: string }>();
    const read = async () =>
      (await api.inject({ method: 'GET', url: `/api/v1/organizations/${orgId}/llm/jobs/${id}`, headers })).json<{
        status: string;
        result: string | null;
      }>();
    let job = await read();
    for (let i = 0; i < 200 && (job.status === 'queued' || job.status === 'running'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await read();
    }
    expect(job).toMatchObject({ status: 'succeeded', result: 'echo: from the worker' });
    expect(llm.requests.at(-1)?.authorization).toBe('Bearer sk-w');
    const usage = await api.inject({ method: 'GET', url: `/api/v1/organizations/${orgId}/llm/usage`, headers });
    expect(usage.json()).toMatchObject({ requests: 1, totalTokens: 3 + 4 });
  });

  it('answers its probe and serves job metrics on WORKER_HEALTH_PORT', async () => {
    const health = await probe('/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: 'ok',
      queues: [
        { queue: 'default', running: true, redis: 'ready', concurrency: 5 },
        { queue: 'llm', running: true, redis: 'ready', concurrency: 5 },
        { queue: 'webhooks', running: true, redis: 'ready', concurrency: 5 },
      ],
    });
    const metrics = await (await probe('/metrics')).text();
    // The mails delivered above were timed.
    expect(metrics).toMatch(/job_duration_seconds_count\{job="mail.send",outcome="success"\} [1-9]/);
    expect(metrics).toMatch(/queue_jobs\{queue="default",state="waiting"\} 0/);
    expect((await probe('/nothing')).status).toBe(404);
    expect((await probe('/health')).headers.get('cache-control')).toBe('no-store');
  });

  it('takes only the queues of WORKER_QUEUES, at their own concurrency', async () => {
    const port = await freePort();
    const llmWorker = startProcess('worker', {
      DATABASE_URL: api.config.database.kind === 'postgres' ? api.config.database.url : undefined,
      REDIS_URL: services.redisUrl,
      QUEUE_PREFIX: queuePrefix,
      WORKER_QUEUES: 'llm',
      WORKER_QUEUE_CONCURRENCY: 'llm=2',
      WORKER_HEALTH_PORT: String(port),
      HOST: '127.0.0.1',
    });
    try {
      await llmWorker.waitForOutput(/worker ready/);
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(await health.json()).toEqual({
        status: 'ok',
        queues: [{ queue: 'llm', running: true, redis: 'ready', concurrency: 2 }],
      });
    } finally {
      await llmWorker.stop('SIGTERM');
    }
  });

  it('stops on SIGTERM with exit code 0', async () => {
    expect(await worker.stop('SIGTERM')).toBe(0);
    expect(worker.output()).toMatch(/SIGTERM received/);
  });
});
