import { OutboxMessage, TenantTransaction } from '@app/database';
import {
  createTestApp,
  readServicesEnv,
  register,
  startProcess,
  startSmtpSink,
  startTcpProxy,
  uniqueEmail,
  type AppProcess,
  type SmtpSink,
  type TcpProxy,
  type TestApp,
} from '@app/testing';

/**
 * Redis goes away under the api: requests still succeed, their mails wait in the outbox, and
 * they are delivered (once) by the real worker when Redis is back.
 */
describe('outbox through a Redis outage', () => {
  const services = readServicesEnv();
  if (!services) throw new Error('run with npm run test:services');
  const queuePrefix = `o${Date.now().toString(36)}`;
  let smtp: SmtpSink;
  let proxy: TcpProxy;
  let api: TestApp;
  let worker: AppProcess;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    proxy = await startTcpProxy(Number(new URL(services.redisUrl).port || 6379), new URL(services.redisUrl).hostname);
    const redisThroughProxy = new URL(services.redisUrl);
    redisThroughProxy.port = String(proxy.port);
    api = await createTestApp({
      redis: true,
      env: { REDIS_URL: redisThroughProxy.toString(), QUEUE_PREFIX: queuePrefix, SMTP_URL: smtp.url },
    });
    worker = startProcess('worker', {
      DATABASE_URL: api.config.database.kind === 'postgres' ? api.config.database.url : undefined,
      REDIS_URL: services.redisUrl,
      QUEUE_PREFIX: queuePrefix,
      SMTP_URL: smtp.url,
    });
    await worker.waitForOutput(/worker ready/);
  });
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await api?.close();
    await proxy?.close();
    await smtp?.close();
  });

  const outboxRow = async (email: string) => {
    const [row] = await api.app
      .get(TenantTransaction)
      .runAsSystem((m) =>
        m.createQueryBuilder(OutboxMessage, 'o').where("o.payload->>'to' = :email", { email }).getMany(),
      );
    return row;
  };

  it('registers while Redis is down and mails once it is back', async () => {
    const before = uniqueEmail('before-outage');
    await register(api, before);
    await smtp.waitFor((m) => m.to.includes(before), 20_000);

    proxy.pause();
    const during = uniqueEmail('during-outage');
    const started = Date.now();
    await register(api, during);
    expect(Date.now() - started).toBeLessThan(5_000);
    // The relay tried, failed, and keeps the row for later.
    for (let i = 0; i < 50 && !(await outboxRow(during))?.lastError; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const waiting = await outboxRow(during);
    expect(waiting).toMatchObject({ publishedAt: null });
    expect(waiting?.lastError).toBeTruthy();
    expect(smtp.messages.some((m) => m.to.includes(during))).toBe(false);

    proxy.resume();
    const mail = await smtp.waitFor((m) => m.to.includes(during), 30_000);
    expect(mail.subject).toMatch(/Confirm your email/);
    expect((await outboxRow(during))?.publishedAt).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp.messages.filter((m) => m.to.includes(during))).toHaveLength(1);
  });
});
