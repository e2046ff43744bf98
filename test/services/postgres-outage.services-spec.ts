import { freePort, startOwnPostgres, startProcess, type AppProcess, type OwnPostgres } from '@app/testing';
import { Client } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';

interface Outcome {
  status: number | string;
  type: string | null;
  teamId?: string;
}

/**
 * PostgreSQL restarts under steady traffic: the test's own cluster (initdb'd for it, on its own
 * port) is stopped in immediate mode, which drops every connection as a crash would, and started
 * again. The built api answers 503 problem+json meanwhile (never a 500, never a hang), readiness
 * says so, it recovers by itself, and every team it acknowledged with 201 is in the database.
 */
describe('PostgreSQL restart under traffic', () => {
  let postgres: OwnPostgres;
  let api: AppProcess;
  let base: string;

  beforeAll(async () => {
    postgres = await startOwnPostgres();
    const port = await freePort();
    api = startProcess('api', {
      // A fresh cluster: the api applies the migrations at start-up.
      DATABASE_URL: postgres.url,
      MIGRATE_ON_START: 'true',
      PORT: String(port),
      HOST: '127.0.0.1',
      RATE_LIMIT_PER_MINUTE: '1000000',
    });
    await api.waitForOutput(/api listening/);
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await api?.stop('SIGKILL');
    await postgres?.destroy();
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

  it('answers 503 while the database is down, recovers by itself when it is back, and loses nothing it acknowledged', async () => {
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
    await postgres.stop('immediate');
    await until(async () => (await readiness()) === 503);
    const outageStart = outcomes.length;
    await until(() => Promise.resolve(outcomes.length - outageStart >= 20));
    const duringOutage = outcomes.slice(outageStart);
    await postgres.start();
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
    const db = new Client({ connectionString: postgres.url });
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
