/*
 * Domain events out: webhook deliveries per second (a burst of changes, each delivered to one
 * endpoint on a loopback receiver), the event-to-receiver latency of a single change when idle
 * (p50/p99), and what an open event stream costs the api (RSS per connection, the api alone in its
 * own process). Embedded: the api in process runs the deliveries itself. `BENCH_SERVICES=1`: the
 * api on PostgreSQL enqueues to Redis and one real worker process delivers. Prints figures;
 * asserts nothing about time.
 */
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import {
  bearer,
  createTestApp,
  freePort,
  readServicesEnv,
  registerAndLogin,
  startProcess,
  STRONG_PASSWORD,
  WebhookReceiver,
  type AppProcess,
  type TestApp,
} from '@app/testing';

const BURST = Number(process.env.EVENTS_BENCH_BURST ?? (process.env.BENCH_SERVICES ? 2000 : 300));
const IDLE_ROUNDS = Number(process.env.EVENTS_BENCH_IDLE ?? 100);
const STREAMS = Number(process.env.EVENTS_BENCH_STREAMS ?? 1000);
const CLIENTS = Number(process.env.EVENTS_BENCH_CLIENTS ?? 8);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'));
  return Number(line?.replace(/\D+/g, '') ?? NaN);
}

describe('domain events out', () => {
  const services = readServicesEnv();
  let receiver: WebhookReceiver;
  let t: TestApp;
  let worker: AppProcess | undefined;
  let startWorker: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    const env = {
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_PRIVATE_TARGETS: `127.0.0.1:${receiver.port}`,
    };
    t = await createTestApp({ redis: Boolean(services), env });
    if (services) {
      startWorker = async () => {
        worker = startProcess('worker', {
          DATABASE_URL: t.config.database.kind === 'postgres' ? t.config.database.url : undefined,
          REDIS_URL: services.redisUrl,
          QUEUE_PREFIX: t.config.queuePrefix,
          JWT_SECRET: t.config.jwtSecret,
          LOG_LEVEL: 'info',
          ...env,
        });
        await worker.waitForOutput(/worker ready/);
      };
      await startWorker();
    }
  });
  afterAll(async () => {
    await worker?.stop('SIGTERM');
    await t?.close();
    await receiver?.close();
  });

  it('measures webhook throughput and idle latency', async () => {
    const owner = await registerAndLogin(t, 'events-bench');
    const call = (method: 'POST' | 'PUT', url: string, payload?: object) =>
      t.inject({ method, url: `/api/v1${url}`, headers: bearer(owner.tokens.access_token), payload });
    const orgId = (await call('POST', '/organizations', { name: 'Events bench' })).json<{ id: string }>().id;
    const team = (await call('POST', `/organizations/${orgId}/teams`, { name: 'Bench' })).json<{ id: string }>();
    const endpoint = (
      await call('POST', `/organizations/${orgId}/webhooks/endpoints`, {
        url: receiver.url('/bench'),
        eventTypes: ['team.updated'],
      })
    ).json<{ id: string }>();
    const received = () => receiver.at('/bench').length;
    const waitFor = async (count: number) => {
      const deadline = Date.now() + 300_000;
      while (received() < count) {
        if (Date.now() > deadline) throw new Error(`only ${received()} of ${count} delivered`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    // Idle latency: one change at a time, from its answer to the receiver's.
    const latencies: number[] = [];
    for (let i = 0; i < IDLE_ROUNDS; i += 1) {
      const before = received();
      await call('PUT', `/organizations/${orgId}/teams/${team.id}`, { name: `Idle ${i}` });
      const answered = performance.now();
      await waitFor(before + 1);
      latencies.push(performance.now() - answered);
    }
    latencies.sort((x, y) => x - y);

    // Throughput: a burst of changes from CLIENTS concurrent clients (one team each, so they do not
    // queue on one row lock), then until the last delivery lands.
    const teams = [team.id];
    for (let i = 1; i < CLIENTS; i += 1) {
      teams.push(
        (await call('POST', `/organizations/${orgId}/teams`, { name: `Bench ${i}` })).json<{ id: string }>().id,
      );
    }
    // With a worker process, it is stopped while the burst is made, so what is timed is the worker
    // draining a queue of BURST deliveries; in process, changes and deliveries share the process.
    if (worker) await worker.stop('SIGTERM');
    const start = received();
    let begin = performance.now();
    let next = 0;
    await Promise.all(
      teams.map(async (teamId) => {
        while (next < BURST) {
          const i = next;
          next += 1;
          await call('PUT', `/organizations/${orgId}/teams/${teamId}`, { name: `Burst ${i}` });
        }
      }),
    );
    const changed = performance.now();
    if (startWorker) {
      await startWorker();
      begin = performance.now();
    }
    await waitFor(start + BURST);
    const seconds = (performance.now() - begin) / 1000;
    const how = startWorker
      ? `a queue of ${BURST} deliveries drained by one worker process (PostgreSQL + Redis) in ${seconds.toFixed(1)} s`
      : `${BURST} changes from ${CLIENTS} clients made in ${((changed - begin) / 1000).toFixed(1)} s and delivered in process ` +
        `(embedded PGlite) in ${seconds.toFixed(1)} s`;
    process.stdout.write(
      `\nWebhooks: ${(BURST / seconds).toFixed(1)} deliveries/s, ${how}; idle event-to-receiver latency ` +
        `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms ` +
        `(${IDLE_ROUNDS} rounds); endpoint ${endpoint.id}\n`,
    );
  });

  it('measures what an open event stream costs the api process', async () => {
    // The built api alone in its own process (embedded database), so its RSS is its own.
    const port = await freePort();
    // The per-person limit raised for the measurement: one person opens them all.
    const api = startProcess('api', {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      EMBEDDED_DB_PATH: 'memory://',
      EVENTS_MAX_STREAMS_PER_USER: String(STREAMS + 10),
      EVENTS_MAX_STREAMS: String(STREAMS + 10),
      EVENTS_HEARTBEAT: '1',
      RATE_LIMIT_PER_MINUTE: '1000000',
    });
    const streams: ClientRequest[] = [];
    try {
      const base = `http://127.0.0.1:${port}/api/v1`;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const health = await fetch(`${base}/health`).catch(() => undefined);
        if (health?.ok) break;
        if (Date.now() > deadline) throw new Error(`api did not start:\n${api.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const email = `stream-bench-${Date.now()}@example.com`;
      const post = (path: string, body: object, token?: string) =>
        fetch(`${base}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
        });
      await post('/auth/register', { email, password: STRONG_PASSWORD, fullName: 'Stream Bench' });
      const token = (
        (await (await post('/auth/login', { email, password: STRONG_PASSWORD })).json()) as {
          access_token: string;
        }
      ).access_token;
      const orgId = ((await (await post('/organizations', { name: 'Streams bench' }, token)).json()) as { id: string })
        .id;
      const pid = api.child.pid!;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const before = rssKiB(pid);
      const open = (bearerToken: string) =>
        new Promise<void>((resolve, reject) => {
          const req = httpRequest(
            `${base}/organizations/${orgId}/events/stream`,
            { headers: { authorization: `Bearer ${bearerToken}`, accept: 'text/event-stream' }, agent: false },
            (res) => {
              if (res.statusCode !== 200) reject(new Error(`stream answered ${res.statusCode}`));
              res.once('data', () => resolve());
            },
          );
          req.on('error', reject);
          req.end();
          streams.push(req);
        });
      let opened = 0;
      for (let i = 0; i < STREAMS; i += 50) {
        const batch = Math.min(50, STREAMS - i);
        const results = await Promise.allSettled(Array.from({ length: batch }, () => open(token)));
        opened += results.filter((result) => result.status === 'fulfilled').length;
      }
      // Two heartbeats, so every stream has been checked again at least once.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const after = rssKiB(pid);
      process.stdout.write(
        `\nEvent streams: ${opened} open on one api process (embedded database): RSS ${(before / 1024).toFixed(1)} MiB ` +
          `before, ${(after / 1024).toFixed(1)} MiB after, ${((after - before) / Math.max(1, opened)).toFixed(1)} KiB per stream\n`,
      );
    } finally {
      for (const req of streams) req.destroy();
      await api.stop('SIGTERM');
    }
  });
});
