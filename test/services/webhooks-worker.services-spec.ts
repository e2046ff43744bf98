import {
  bearer,
  createTestApp,
  readServicesEnv,
  registerAndLogin,
  startProcess,
  WebhookReceiver,
  type AppProcess,
  type TestApp,
} from '@app/testing';

/**
 * Webhooks through the production path: the api on PostgreSQL publishes deliveries to BullMQ on
 * Redis, and the real worker process makes the attempts (the api runs no jobs with REDIS_URL set).
 * A receiver that fails three times gets the event on the fourth attempt, exactly once.
 */
describe('webhooks through the worker', () => {
  const services = readServicesEnv();
  if (!services) throw new Error('run with npm run test:services');
  let receiver: WebhookReceiver;
  let api: TestApp;
  let worker: AppProcess;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    const webhookEnv = {
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_PRIVATE_TARGETS: `127.0.0.1:${receiver.port}`,
      WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms',
    };
    api = await createTestApp({ redis: true, env: webhookEnv });
    worker = startProcess('worker', {
      DATABASE_URL: api.config.database.kind === 'postgres' ? api.config.database.url : undefined,
      REDIS_URL: services.redisUrl,
      QUEUE_PREFIX: api.config.queuePrefix,
      // The same key seals and opens the signing secrets (derived from JWT_SECRET when not set).
      JWT_SECRET: api.config.jwtSecret,
      ...webhookEnv,
    });
    await worker.waitForOutput(/worker ready/);
  });
  afterAll(async () => {
    await worker?.stop('SIGTERM');
    await api?.close();
    await receiver?.close();
  });

  it('delivers a signed team.updated on the fourth attempt, once, from the worker', async () => {
    const owner = await registerAndLogin(api, 'worker-hooks');
    const call = (method: 'POST' | 'PUT' | 'GET', url: string, payload?: object) =>
      api.inject({ method, url: `/api/v1${url}`, headers: bearer(owner.tokens.access_token), payload });
    const orgId = (await call('POST', '/organizations', { name: 'Worker hooks' })).json<{ id: string }>().id;
    const endpoint = (
      await call('POST', `/organizations/${orgId}/webhooks/endpoints`, {
        url: receiver.url('/worker'),
        eventTypes: ['team.updated'],
      })
    ).json<{ id: string; secret: string }>();
    receiver.trust(endpoint.secret);
    receiver.failTimes('/worker', 3);
    const team = (await call('POST', `/organizations/${orgId}/teams`, { name: 'Queue' })).json<{ id: string }>();
    expect((await call('PUT', `/organizations/${orgId}/teams/${team.id}`, { name: 'Queues' })).statusCode).toBe(200);

    const until = Date.now() + 30_000;
    let items: Array<{ status: string; attempts: number; webhookId: string }> = [];
    while (Date.now() < until) {
      items = (await call('GET', `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}/deliveries`)).json<{
        items: typeof items;
      }>().items;
      if (items[0] && items[0].status !== 'pending') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(items).toEqual([expect.objectContaining({ status: 'succeeded', attempts: 4 })]);
    const attempts = receiver.at('/worker');
    expect(attempts.map((attempt) => attempt.answered)).toEqual([500, 500, 500, 200]);
    expect(attempts.every((attempt) => attempt.verifiedBy.length === 1)).toBe(true);
    expect(new Set(attempts.map((attempt) => attempt.headers['webhook-id']))).toEqual(new Set([items[0]?.webhookId]));
    // The api ran none of it: with Redis it only enqueues.
    expect(api.config.redisUrl).toBeTruthy();
  });
});
