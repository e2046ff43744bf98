import { OutboxMessage, TenantTransaction } from '@app/database';
import {
  createTestApp,
  readServicesEnv,
  register,
  startProcess,
  startOwnRedis,
  startSmtpSink,
  uniqueEmail,
  type AppProcess,
  type OwnRedis,
  type SmtpSink,
  type TestApp,
} from '@app/testing';

/**
 * Redis (the test's own server, shared by the api and the real worker) crashes: requests still
 * succeed, their mails wait in the outbox, and once Redis is back, empty, they are delivered
 * (once) by the worker, which reconnected by itself.
 */
describe('outbox through a Redis outage', () => {
  const services = readServicesEnv();
  if (!services) throw new Error('run with npm run test:services');
  const queuePrefix = `o${Date.now().toString(36)}`;
  let smtp: SmtpSink;
  let redis: OwnRedis;
  let api: TestApp;
  let worker: AppProcess;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    redis = await startOwnRedis();
    api = await createTestApp({
      redis: true,
      env: { REDIS_URL: redis.url, QUEUE_PREFIX: queuePrefix, SMTP_URL: smtp.url },
    });
    worker = startProcess('worker', {
      DATABASE_URL: api.config.database.kind === 'postgres' ? api.config.database.url : undefined,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: queuePrefix,
      SMTP_URL: smtp.url,
    });
    await worker.waitForOutput(/worker ready/);
  });
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await api?.close();
    await redis?.destroy();
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

    await redis.kill();
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

    await redis.start();
    const mail = await smtp.waitFor((m) => m.to.includes(during), 30_000);
    expect(mail.subject).toMatch(/Confirm your email/);
    expect((await outboxRow(during))?.publishedAt).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp.messages.filter((m) => m.to.includes(during))).toHaveLength(1);
  });
});
