import { MailSendJob } from '@app/jobs';
import { JobQueue } from '@app/queue';
import { randomBytes } from 'node:crypto';
import {
  createTestApp,
  createTestDatabase,
  freePort,
  readServicesEnv,
  startOpenAiStandIn,
  startOtlpCollector,
  type OpenAiStandIn,
  startProcess,
  type AppProcess,
  type CollectedSpan,
  type OtlpCollector,
  type TestApp,
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
    await fetch(`${base}/api/v1/users/me`, {
      headers: { authorization: `Bearer ${accessToken}`, traceparent: `00-${marker}-${hex(8)}-01` },
    });
    await collector.waitFor((spans) => spans.some((span) => span.traceId === marker && span.kind === SERVER));
    expect(collector.spans.filter((span) => /health/.test(span.name))).toEqual([]);
    const exported = collector.bodies.join('\n');
    expect(exported).not.toContain(accessToken);
    expect(exported).not.toContain(password);
    expect(exported).not.toMatch(/authorization/i);
  });
});

describe('OpenTelemetry tracing in the worker', () => {
  const services = readServicesEnv();
  if (!services) throw new Error('run with npm run test:services');
  const queuePrefix = `otel${Date.now().toString(36)}`;
  let collector: OtlpCollector;
  let api: TestApp;
  let worker: AppProcess;

  beforeAll(async () => {
    collector = await startOtlpCollector();
    api = await createTestApp({ redis: true, env: { QUEUE_PREFIX: queuePrefix } });
    worker = startProcess('worker', {
      DATABASE_URL: api.config.database.kind === 'postgres' ? api.config.database.url : undefined,
      REDIS_URL: services.redisUrl,
      QUEUE_PREFIX: queuePrefix,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    await worker.waitForOutput(/worker ready/);
  });
  afterAll(async () => {
    if (worker) expect(await worker.stop('SIGTERM')).toBe(0);
    await api?.close();
    await collector?.close();
  });

  it('exports a consumer span per job, with the job queue, id and attempt', async () => {
    const jobId = await api.app.get(JobQueue).enqueue(MailSendJob, {
      to: 'traced@example.test',
      subject: 'Traced through the worker',
      text: 'body',
    });
    await collector.waitFor((spans) => spans.some((span) => span.attributes['job.id'] === jobId));
    const job = collector.spans.find((span) => span.attributes['job.id'] === jobId)!;
    expect(job).toMatchObject({
      service: 'saas-worker',
      name: `job ${MailSendJob.name}`,
      kind: CONSUMER,
      parentSpanId: undefined,
      attributes: expect.objectContaining({ 'job.queue': MailSendJob.queue, 'job.attempt': 1 }) as unknown,
    });
    // The queue's idle polling is not traced: every exported span belongs to a job's trace.
    const jobTraces = new Set(collector.spans.filter((span) => span.kind === CONSUMER).map((span) => span.traceId));
    expect(collector.spans.filter((span) => !jobTraces.has(span.traceId))).toEqual([]);
  });
});
