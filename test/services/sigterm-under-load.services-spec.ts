import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, freePort, readServicesEnv, startProcess, type TestDatabase } from '@app/testing';

interface Attempt {
  /** When the request was fully written to its connection (undefined: it never was). */
  writtenAt?: number;
  answeredAt?: number;
  status?: number;
  error?: string;
  /** For a refused request: whether the api process was still running when it was refused. */
  refusedWhileRunning?: boolean;
  keepAlive?: boolean;
}

/**
 * SIGTERM while eight clients keep the built api busy (slow sign-ins and fast profile reads, most
 * on a new connection per request, two on kept-alive connections). Every request written before the signal is answered 2xx, later
 * ones are either answered or refused at the connection (never a 5xx), and the process exits 0
 * within its drain budget (past it, it would exit 1).
 */
describe('SIGTERM under sustained load', () => {
  if (!readServicesEnv()) throw new Error('run with npm run test:services');
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  function send(
    port: number,
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
    agent: Agent | false = false,
  ) {
    return new Promise<Attempt>((resolve) => {
      const attempt: Attempt = {};
      const req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ ...attempt, status: res.statusCode, answeredAt: performance.now() }));
        res.on('error', (error) => resolve({ ...attempt, error: error.message }));
      });
      req.on('finish', () => (attempt.writtenAt = performance.now()));
      req.on('error', (error: NodeJS.ErrnoException) => resolve({ ...attempt, error: error.code ?? error.message }));
      req.end(body);
    });
  }

  it('answers what it accepted, refuses the rest at the door, and exits 0', async () => {
    const port = await freePort();
    const api = startProcess('api', {
      ...database.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      SHUTDOWN_TIMEOUT_MS: '10000',
      RATE_LIMIT_PER_MINUTE: '1000000',
      AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
      LOCKOUT_THRESHOLD: '1000000',
    });
    await api.waitForOutput(/api listening/);
    const json = { 'content-type': 'application/json' };
    const credentials = JSON.stringify({ email: 'sigterm-load@example.test', password: 'Tangerine-Vortex-Quill-8841' });
    expect((await send(port, 'POST', '/api/v1/auth/register', json, credentials)).status).toBe(201);
    const token = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/api/v1/auth/login', headers: json, agent: false },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve((JSON.parse(text) as { access_token: string }).access_token));
        },
      );
      req.on('error', reject);
      req.end(credentials);
    });

    const attempts: Attempt[] = [];
    let exited = false;
    // Most clients open a connection per request (after the signal, new connections are what gets
    // refused); two keep their connection alive, as a load balancer would.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 2 });
    const client = async (kind: 'login' | 'me' | 'me-keep-alive') => {
      while (!exited) {
        const me = { authorization: `Bearer ${token}` };
        const attempt =
          kind === 'login'
            ? await send(port, 'POST', '/api/v1/auth/login', json, credentials)
            : await send(port, 'GET', '/api/v1/users/me', me, undefined, kind === 'me-keep-alive' ? keepAlive : false);
        if (attempt.error) attempt.refusedWhileRunning = api.child.exitCode === null && api.child.signalCode === null;
        attempt.keepAlive = kind === 'me-keep-alive';
        attempts.push(attempt);
        // Refused: do not spin on a closed port.
        if (attempt.error) await sleep(20);
      }
    };
    const clients = [
      ...Array.from({ length: 4 }, () => client('login')),
      ...Array.from({ length: 2 }, () => client('me')),
      ...Array.from({ length: 2 }, () => client('me-keep-alive')),
    ];

    while (attempts.filter((attempt) => attempt.status === 200).length < 40) await sleep(50);
    const signalAt = performance.now();
    api.child.kill('SIGTERM');
    const code = await api.exited;
    exited = true;
    await Promise.all(clients);
    keepAlive.destroy();

    expect(code).toBe(0);
    expect(api.output()).toMatch(/SIGTERM received: draining/);
    const before = attempts.filter((attempt) => attempt.writtenAt !== undefined && attempt.writtenAt < signalAt);
    const inFlight = before.filter((attempt) => (attempt.answeredAt ?? Infinity) > signalAt);
    const after = attempts.filter((attempt) => !before.includes(attempt));
    // The signal really landed mid-traffic: sign-ins were being worked on when it came.
    expect(inFlight.length).toBeGreaterThan(0);
    // Zero failures among the requests the api had received before the signal.
    expect(before.filter((attempt) => attempt.status !== 200 && attempt.status !== 201)).toEqual([]);
    // Afterwards: answered, or refused at the connection; never an error response.
    expect(after.filter((attempt) => attempt.status !== undefined && attempt.status >= 500)).toEqual([]);
    const refusals = new Set(after.filter((attempt) => attempt.error).map((attempt) => attempt.error));
    for (const reason of refusals) expect(['ECONNREFUSED', 'ECONNRESET', 'socket hang up']).toContain(reason);
    // Refused by the live, draining process (its listener closed first), not merely by a dead port.
    expect(after.some((attempt) => attempt.error === 'ECONNREFUSED' && attempt.refusedWhileRunning)).toBe(true);
    // Every connection, the kept-alive ones included, ended by itself before the drain budget ran out.
    expect(before.some((attempt) => attempt.keepAlive)).toBe(true);
    expect(api.output()).toMatch(/every connection closed/);
  });
});
