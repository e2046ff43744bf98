import {
  createTestDatabase,
  freePort,
  startProcess,
  startTcpProxy,
  type AppProcess,
  type TcpProxy,
  type TestDatabase,
} from '@app/testing';
import { Client } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';

interface Outcome {
  status: number | string;
  type: string | null;
  teamId?: string;
}

/**
 * PostgreSQL goes away under steady traffic (its connections cut and new ones refused, by a TCP
 * proxy in front of this test's own database) and comes back. The built api answers 503
 * problem+json meanwhile (never a 500, never a hang), readiness says so, it recovers by itself,
 * and every team it acknowledged with 201 is in the database.
 */
describe('PostgreSQL outage under traffic', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let api: AppProcess;
  let base: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const direct = new URL(database.env.DATABASE_URL ?? '');
    proxy = await startTcpProxy(Number(direct.port || 5432), direct.hostname);
    const proxied = new URL(direct.toString());
    proxied.port = String(proxy.port);
    const port = await freePort();
    api = startProcess('api', {
      ...database.env,
      DATABASE_URL: proxied.toString(),
      PORT: String(port),
      HOST: '127.0.0.1',
      RATE_LIMIT_PER_MINUTE: '1000000',
    });
    await api.waitForOutput(/api listening/);
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await api?.stop('SIGKILL');
    await proxy?.close();
    await database?.drop();
  });

  const json = { 'content-type': 'application/json' };
  const readiness = async () => (await fetch(`${base}/api/v1/health`)).status;
  const until = async (probe: () => Promise<boolean>) => {
    for (let i = 0; i < 300; i++) {
      if (await probe()) return;
      await sleep(100);
    }
    throw new Error('condition not reached in 30 s');
  };

  it('answers 503 while the database is away, recovers by itself, and loses nothing it acknowledged', async () => {
    const credentials = JSON.stringify({ email: 'outage@example.test', password: 'Tangerine-Vortex-Quill-8841' });
    expect(
      (await fetch(`${base}/api/v1/auth/register`, { method: 'POST', headers: json, body: credentials })).status,
    ).toBe(201);
    const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: json, body: credentials });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const auth = { ...json, authorization: `Bearer ${token}` };
    const org = await fetch(`${base}/api/v1/organizations`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'Outage' }),
    });
    const { id: orgId } = (await org.json()) as { id: string };

    // Four clients creating teams without pause, until told to stop.
    let running = true;
    let counter = 0;
    const outcomes: Outcome[] = [];
    const client = async () => {
      while (running) {
        const name = `team-${counter++}`;
        const controller = AbortSignal.timeout(15_000);
        try {
          const res = await fetch(`${base}/api/v1/organizations/${orgId}/teams`, {
            method: 'POST',
            headers: auth,
            body: JSON.stringify({ name }),
            signal: controller,
          });
          const body = (await res.json()) as { id?: string };
          outcomes.push({ status: res.status, type: res.headers.get('content-type'), teamId: body.id });
        } catch (error) {
          outcomes.push({ status: `client error: ${(error as Error).message}`, type: null });
        }
      }
    };
    const clients = Array.from({ length: 4 }, () => client());

    await until(() => Promise.resolve(outcomes.filter((o) => o.status === 201).length >= 20));
    proxy.pause();
    await until(async () => (await readiness()) === 503);
    const outageStart = outcomes.length;
    await until(() => Promise.resolve(outcomes.length - outageStart >= 20));
    const duringOutage = outcomes.slice(outageStart);
    proxy.resume();
    await until(async () => (await readiness()) === 200);
    const recoveredAt = outcomes.length;
    await until(() => Promise.resolve(outcomes.slice(recoveredAt).filter((o) => o.status === 201).length >= 20));
    running = false;
    await Promise.all(clients);

    // Only two answers ever: created, or 503 problem+json (a request cut mid-way included).
    const unexpected = outcomes.filter(
      (o) => !(o.status === 201 || (o.status === 503 && o.type?.startsWith('application/problem+json'))),
    );
    expect(unexpected).toEqual([]);
    expect(duringOutage.every((o) => o.status === 503)).toBe(true);
    expect(outcomes.slice(recoveredAt).some((o) => o.status === 201)).toBe(true);

    // Every acknowledged team is there.
    const acknowledged = outcomes.flatMap((o) => (o.status === 201 && o.teamId ? [o.teamId] : []));
    const db = new Client({ connectionString: database.env.DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM teams WHERE organization_id = $1', [orgId]);
      const stored = new Set(rows.map((row) => row.id));
      expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      await db.end();
    }
    expect(api.output()).not.toMatch(/"status":500/);
  });
});
