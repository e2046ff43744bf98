import { MailSendJob, PasswordResetRequestJob } from '@app/jobs';
import { randomBytes } from 'node:crypto';
import {
  createTestDatabase,
  freePort,
  readServicesEnv,
  startOpenAiStandIn,
  startOtlpCollector,
  startSmtpSink,
  type SmtpSink,
  type OpenAiStandIn,
  startProcess,
  type AppProcess,
  type CollectedSpan,
  type OtlpCollector,
  type TestDatabase,
} from '@app/testing';

const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

/** The built api with OTEL_EXPORTER_OTLP_ENDPOINT set, exporting to a collector on loopback. */
describe('OpenTelemetry tracing', () => {
  if (!readServicesEnv()) throw new Error('run with npm run test:services');
  let database: TestDatabase;
  let collector: OtlpCollector;
  let provider: OpenAiStandIn;
  let api: AppProcess;
  let base: string;
  const password = 'Tangerine-Vortex-Quill-8841';
  let accessToken: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    collector = await startOtlpCollector();
    provider = await startOpenAiStandIn();
    const port = await freePort();
    // No REDIS_URL: jobs run in-process, so the api's own job spans are exported too.
    api = startProcess('api', {
      ...database.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_SERVICE_NAME: 'tracing-test-api',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OPENAI_BASE_URL: provider.url,
      OPENAI_API_KEY: 'sk-traced-secret',
    });
    await api.waitForOutput(/api listening/, 60_000);
    base = `http://127.0.0.1:${port}`;
    const headers = { 'content-type': 'application/json' };
    const credentials = JSON.stringify({ email: 'traced@example.test', password });
    expect((await fetch(`${base}/api/v1/auth/register`, { method: 'POST', headers, body: credentials })).status).toBe(
      201,
    );
    const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers, body: credentials });
    expect(login.status).toBe(200);
    accessToken = ((await login.json()) as { access_token: string }).access_token;
  });

  afterAll(async () => {
    if (api) expect(await api.stop('SIGTERM')).toBe(0);
    await collector?.close();
    await provider?.close();
    await database?.drop();
  });

  function hex(bytes: number): string {
    return randomBytes(bytes).toString('hex');
  }

  /** Every span of the trace that descends from `root`. */
  function descendants(spans: CollectedSpan[], root: CollectedSpan): CollectedSpan[] {
    const found: CollectedSpan[] = [];
    let frontier = [root.spanId];
    while (frontier.length > 0) {
      const children = spans.filter(
        (span) => span.traceId === root.traceId && span.parentSpanId && frontier.includes(span.parentSpanId),
      );
      found.push(...children);
      frontier = children.map((span) => span.spanId);
    }
    return found;
  }

  it('continues the caller trace, names the server span by route, and nests the database queries under it', async () => {
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const res = await fetch(`${base}/api/v1/organizations`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${callerSpanId}-01`,
      },
      body: JSON.stringify({ name: 'Traced Inc' }),
    });
    expect(res.status).toBe(201);
    const { id: orgId } = (await res.json()) as { id: string };

    const serverSpan = (spans: CollectedSpan[]) =>
      spans.find((span) => span.traceId === traceId && span.kind === SERVER);
    await collector.waitFor((spans) => {
      const server = serverSpan(spans);
      return (
        server !== undefined &&
        descendants(spans, server).some((span) => span.attributes['db.system.name'] !== undefined)
      );
    });
    const server = serverSpan(collector.spans)!;
    expect(server).toMatchObject({
      service: 'tracing-test-api',
      name: 'POST /api/v1/organizations',
      parentSpanId: callerSpanId,
      attributes: expect.objectContaining({ 'http.route': '/api/v1/organizations' }) as unknown,
    });
    const queries = descendants(collector.spans, server).filter(
      (span) => span.attributes['db.system.name'] !== undefined,
    );
    expect(queries[0]?.attributes['db.system.name']).toBe('postgresql');
    // Statement text is recorded; the values bound to it are not.
    expect(queries.some((span) => /insert into/i.test(JSON.stringify(span.attributes['db.query.text'] ?? '')))).toBe(
      true,
    );
    expect(JSON.stringify(queries.map((span) => span.attributes))).not.toContain('Traced Inc');

    // Route patterns, not ids, name the spans.
    const get = await fetch(`${base}/api/v1/organizations/${orgId}`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(get.status).toBe(200);
    await collector.waitFor((spans) => spans.some((span) => span.name === 'GET /api/v1/organizations/:orgId'));
    expect(collector.spans.some((span) => span.name.includes(orgId))).toBe(false);

    // An outgoing call (here the LLM provider, through fetch) is a client span of the request.
    const llmTrace = hex(16);
    const chat = await fetch(`${base}/api/v1/organizations/${orgId}/llm/chat`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        traceparent: `00-${llmTrace}-${hex(8)}-01`,
      },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(chat.status).toBe(200);
    await collector.waitFor((spans) =>
      spans.some(
        (span) =>
          span.traceId === llmTrace &&
          span.kind === CLIENT &&
          typeof span.attributes['url.full'] === 'string' &&
          span.attributes['url.full'].startsWith(provider.url),
      ),
    );
    expect(collector.bodies.join('\n')).not.toContain('sk-traced-secret');

    // The request's log line carries the trace id, to go from a log to its trace.
    await api.waitForOutput(new RegExp(`"traceId":"${traceId}"`), 10_000);
  });

  it('runs each job in a trace of its own', async () => {
    await collector.waitFor((spans) => spans.some((span) => span.kind === CONSUMER));
    const job = collector.spans.find((span) => span.kind === CONSUMER)!;
    expect(job.name).toBe(`job ${String(job.attributes['job.name'])}`);
    expect(job.parentSpanId).toBeUndefined();
    expect(job.attributes['job.attempt']).toBe(1);
  });

  it('leaves probes untraced and never exports credentials', async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/api/v1/health`)).status).toBe(200);
    // A traced request after the probes: once it is exported, so would they have been.
    const marker = hex(16);
    // With a query string that could carry a secret, and a forged client address.
    await fetch(`${base}/api/v1/users/me?token=leak-me-0123456789`, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        traceparent: `00-${marker}-${hex(8)}-01`,
        'x-forwarded-for': '203.0.113.9',
      },
    });
    await collector.waitFor((spans) => spans.some((span) => span.traceId === marker && span.kind === SERVER));
    expect(collector.spans.filter((span) => /health/.test(span.name))).toEqual([]);
    const exported = collector.bodies.join('\n');
    expect(exported).not.toContain(accessToken);
    expect(exported).not.toContain(password);
    expect(exported).not.toMatch(/authorization/i);
    expect(exported).not.toContain('leak-me-0123456789');
    // TRUST_PROXY is off: the client is the socket's address, not what X-Forwarded-For claims.
    const server = collector.spans.find((span) => span.traceId === marker && span.kind === SERVER)!;
    expect(server.attributes['client.address']).toBe('127.0.0.1');
    expect(server.attributes['url.query']).toBe('REDACTED');
  });
});

describe('OpenTelemetry tracing with Redis and the worker', () => {
  const services = readServicesEnv();
  if (!services) throw new Error('run with npm run test:services');
  let database: TestDatabase;
  let collector: OtlpCollector;
  let smtp: SmtpSink;
  let api: AppProcess;
  let worker: AppProcess;
  let base: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    collector = await startOtlpCollector();
    smtp = await startSmtpSink();
    const shared = {
      ...database.env,
      REDIS_URL: services.redisUrl,
      QUEUE_PREFIX: `otel${randomBytes(3).toString('hex')}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    const port = await freePort();
    api = startProcess('api', { ...shared, PORT: String(port), HOST: '127.0.0.1' });
    worker = startProcess('worker', { ...shared, SMTP_URL: smtp.url });
    await Promise.all([api.waitForOutput(/api listening/, 60_000), worker.waitForOutput(/worker ready/)]);
    base = `http://127.0.0.1:${port}/api/v1`;
  });
  afterAll(async () => {
    if (api) expect(await api.stop('SIGTERM')).toBe(0);
    if (worker) expect(await worker.stop('SIGTERM')).toBe(0);
    await smtp?.close();
    await collector?.close();
    await database?.drop();
  });

  it('traces mail jobs in the worker without exporting their contents, keys or links', async () => {
    const email = 'traced-mail@example.test';
    const password = 'Tangerine-Vortex-Quill-8841';
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('/auth/register', { email, password })).status).toBe(201);
    expect((await post('/auth/forgot-password', { email })).status).toBe(202);
    const tokenOf = (text: string) => /token=([^\s&"]+)/.exec(text)?.[1] ?? '';
    const verification = tokenOf((await smtp.waitFor((m) => /verify-email/.test(m.text))).text);
    const reset = tokenOf((await smtp.waitFor((m) => /reset-password/.test(m.text))).text);
    expect(verification).not.toBe('');
    expect(reset).not.toBe('');

    const workerJobs = (spans: CollectedSpan[]) =>
      spans.filter((span) => span.service === 'saas-worker' && span.kind === CONSUMER);
    await collector.waitFor((spans) => workerJobs(spans).length >= 2);
    const register = (spans: CollectedSpan[]) =>
      spans.find((span) => span.kind === SERVER && span.name === 'POST /api/v1/auth/register');
    await collector.waitFor((spans) => register(spans) !== undefined);
    // The mails, and the job that answers the reset request (it queues the reset mail).
    await collector.waitFor((spans) => workerJobs(spans).length >= 3);
    for (const job of workerJobs(collector.spans)) {
      expect([`job ${MailSendJob.name}`, `job ${PasswordResetRequestJob.name}`]).toContain(job.name);
      expect(job).toMatchObject({
        parentSpanId: undefined,
        attributes: expect.objectContaining({ 'job.attempt': 1 }) as unknown,
      });
    }
    // The worker's idle polling is not traced: its only root spans are jobs.
    const workerRoots = collector.spans.filter((span) => span.service === 'saas-worker' && !span.parentSpanId);
    expect(workerRoots.every((span) => span.kind === CONSUMER)).toBe(true);

    // Redis commands are in the traces, by name only.
    const redisSpans = collector.spans.filter((span) => span.attributes['db.system.name'] === 'redis');
    expect(redisSpans.some((span) => span.service === 'saas-api')).toBe(true);
    for (const span of redisSpans) expect(span.attributes['db.query.text']).toMatch(/^[a-z]+$/);
    // The outbox relay that a commit sets off is not part of that request's trace.
    const registerSpan = register(collector.spans)!;
    const inRegisterTrace = collector.spans.filter((span) => span.traceId === registerSpan.traceId);
    expect(inRegisterTrace.some((span) => /SKIP LOCKED/i.test(JSON.stringify(span.attributes)))).toBe(false);

    // Nothing a mail, a queued payload or a rate-limit key holds reached the collector.
    const exported = collector.bodies.join('\n');
    for (const secret of [verification, decodeURIComponent(verification), reset, decodeURIComponent(reset), password]) {
      expect(exported).not.toContain(secret);
    }
    expect(exported).not.toContain(email);
  });
});
