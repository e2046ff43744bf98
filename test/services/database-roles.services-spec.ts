import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { scramVerifier, TenantTransaction } from '@app/database';
import { Client } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { BUILT_ENTRY, createTestApp, createTestDatabase, type TestApp, type TestDatabase } from '@app/testing';
import { bearer, registerAndLogin } from '../support/auth-helpers';
import { readServicesEnv } from '../support/services-env';

/**
 * Least privilege on PostgreSQL: the migrate step runs as the schema owner (DATABASE_MIGRATION_URL)
 * and provisions DATABASE_URL's login, which owns nothing and only becomes app_user. The api runs
 * end to end on it, and statements an attacker could inject through its connection can neither
 * change the schema, switch row-level security off, rewrite the audit log, nor read another tenant.
 */
describe('least-privilege database roles', () => {
  const services = readServicesEnv();
  if (!services) throw new Error('run with npm run test:services (needs PostgreSQL)');
  const suffix = randomBytes(4).toString('hex');
  const runtime = `saas_rt_${suffix}`;
  const intruder = `saas_rt_owner_${suffix}`;
  const member = `saas_rt_member_${suffix}`;
  const outsider = `saas_outsider_${suffix}`;
  let database: TestDatabase;
  let ownerUrl: string;
  let runtimeUrl: string;
  let t: TestApp;
  let orgA: string;
  let orgB: string;

  const withLogin = (url: string, name: string, password: string) => {
    const target = new URL(url);
    target.username = name;
    target.password = password;
    return target.toString();
  };
  const migrate = (env: Record<string, string>) =>
    spawnSync(process.execPath, [BUILT_ENTRY.api, 'migrate'], {
      env: { PATH: process.env.PATH, ENV_FILE: 'none', NODE_ENV: 'test', LOG_FORMAT: 'json', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
  const asAdmin = async <T>(work: (client: Client) => Promise<T>, url = services.adminUrl): Promise<T> => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    ownerUrl = database.env.DATABASE_URL ?? '';
    runtimeUrl = withLogin(ownerUrl, runtime, `rt-${randomBytes(12).toString('hex')}`);
    const run = migrate({ DATABASE_URL: runtimeUrl, DATABASE_MIGRATION_URL: ownerUrl });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toContain(`created the runtime login \\"${runtime}\\"`);

    t = await createTestApp({ database, env: { DATABASE_URL: runtimeUrl, DATABASE_ROLE_CHECK: 'refuse' } });
    const createOrg = async (label: string) => {
      const owner = await registerAndLogin(t, label);
      const org = await t.inject({
        method: 'POST',
        url: '/api/v1/organizations',
        headers: bearer(owner.tokens.access_token),
        payload: { name: `Org ${label}` },
      });
      expect(org.statusCode).toBe(201);
      const id = org.json<{ id: string }>().id;
      const team = await t.inject({
        method: 'POST',
        url: `/api/v1/organizations/${id}/teams`,
        headers: bearer(owner.tokens.access_token),
        payload: { name: `Team ${label}` },
      });
      expect(team.statusCode).toBe(201);
      const list = await t.inject({
        method: 'GET',
        url: `/api/v1/organizations/${id}/teams`,
        headers: bearer(owner.tokens.access_token),
      });
      expect(list.statusCode).toBe(200);
      return id;
    };
    orgA = await createOrg('roles-a');
    orgB = await createOrg('roles-b');
  });

  afterAll(async () => {
    await t?.close();
    await asAdmin(async (client) => {
      await client.query(`DROP ROLE IF EXISTS "${runtime}"`);
      for (const role of [intruder, member, outsider]) await client.query(`DROP ROLE IF EXISTS "${role}"`);
    });
  });

  const runtimeConnection = (): DataSource => t.dataSource;
  const tenantWork = <T>(orgId: string, work: (manager: EntityManager) => Promise<T>) =>
    t.app.get(TenantTransaction).run(orgId, work);

  it('migrate provisioned a login that owns nothing, inherits nothing and may only become app_user', async () => {
    const [role] = await asAdmin((client) =>
      client
        .query<{
          rolsuper: boolean;
          rolinherit: boolean;
          rolbypassrls: boolean;
          rolcreaterole: boolean;
          member_of: string[];
        }>(
          `SELECT r.rolsuper, r.rolinherit, r.rolbypassrls, r.rolcreaterole,
                  ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                         WHERE m.member = r.oid) AS member_of
             FROM pg_roles r WHERE r.rolname = $1`,
          [runtime],
        )
        .then((result) => result.rows),
    );
    expect(role).toEqual({
      rolsuper: false,
      rolinherit: false,
      rolbypassrls: false,
      rolcreaterole: false,
      member_of: ['app_user'],
    });
    const [owned] = await asAdmin(
      (client) =>
        client
          .query<{ count: number }>(
            `SELECT count(*)::int AS count FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = $1`,
            [runtime],
          )
          .then((result) => result.rows),
      ownerUrl,
    );
    expect(owned?.count).toBe(0);
    // The password reached the server as a SCRAM verifier, which it stored as it was sent.
    const [stored] = await asAdmin((client) =>
      client
        .query<{ verifier: string }>('SELECT rolpassword AS verifier FROM pg_authid WHERE rolname = $1', [runtime])
        .then((result) => result.rows),
    );
    const salt = /^SCRAM-SHA-256\$4096:([^$]+)\$/.exec(stored?.verifier ?? '')?.[1] ?? '';
    expect(stored?.verifier).toBe(
      scramVerifier(decodeURIComponent(new URL(runtimeUrl).password), 4096, Buffer.from(salt, 'base64')),
    );
    const [self] = await runtimeConnection().query<Array<{ user: string }>>('SELECT current_user AS user');
    expect(self?.user).toBe(runtime);
    const health = await t.inject({ method: 'GET', url: '/api/v1/health' });
    expect(health.statusCode).toBe(200);
  });

  it('cannot change the schema, switch row-level security off or raise its own rights', async () => {
    const refused = [
      'ALTER TABLE teams DISABLE ROW LEVEL SECURITY',
      'ALTER TABLE teams NO FORCE ROW LEVEL SECURITY',
      'DROP POLICY tenant_isolation ON teams',
      'DROP TABLE teams',
      'CREATE TABLE stolen (secret text)',
      'TRUNCATE audit_logs',
      'CREATE ROLE escalated LOGIN SUPERUSER',
      'ALTER ROLE CURRENT_USER BYPASSRLS',
      'SET ROLE postgres',
      'SET SESSION AUTHORIZATION postgres',
      // Outside a unit of work it holds no right of its own (NOINHERIT).
      'SELECT count(*) FROM teams',
      'SELECT password_hash FROM users',
      // No temporary table can shadow a real one on a pooled connection.
      'CREATE TEMP TABLE organization_members (organization_id uuid, user_id uuid)',
      'SELECT min_retention_days FROM audit_settings',
    ];
    for (const sql of refused) {
      const outcome = await runtimeConnection()
        .query(sql)
        .then(
          () => 'ran',
          (error: Error) => error.message,
        );
      expect({ sql, outcome }).toEqual({
        sql,
        outcome: expect.stringMatching(/must be (owner|superuser)|permission denied/) as unknown,
      });
    }
  });

  it('inside a tenant unit of work, injected SQL reads and writes that tenant only and cannot escape the role', async () => {
    const teams = await tenantWork(orgA, (m) =>
      m.query<Array<{ organization_id: string }>>('SELECT organization_id FROM teams'),
    );
    expect(teams.length).toBeGreaterThan(0);
    expect(new Set(teams.map((row) => row.organization_id))).toEqual(new Set([orgA]));
    expect(
      await tenantWork(orgA, (m) => m.query(`SELECT id FROM teams WHERE organization_id = $1 OR true`, [orgB])),
    ).toHaveLength(teams.length);
    expect(await tenantWork(orgA, (m) => m.query(`SELECT id FROM teams WHERE organization_id = $1`, [orgB]))).toEqual(
      [],
    );
    expect(
      await tenantWork(orgA, (m) => m.query(`UPDATE teams SET name = 'taken' WHERE organization_id = $1`, [orgB])),
    ).toEqual([[], 0]);

    const attempts = [
      // Back to the login's own rights: none.
      'RESET ROLE; SELECT count(*) FROM teams',
      "SELECT set_config('role', 'postgres', true)",
      // Row security cannot be switched off by a role it binds: queries fail instead of bypassing it.
      'SET LOCAL row_security = off; SELECT count(*) FROM teams',
      // The audit log is append-only for the application; only the owner's functions prune or erase.
      "UPDATE audit_logs SET action = 'forged'",
      'DELETE FROM audit_logs',
      'ALTER TABLE audit_logs DISABLE TRIGGER ALL',
      // Pruning runs as the owner, but never under the floor only the owner sets.
      'SELECT audit_log_prune(1)',
      'UPDATE audit_settings SET min_retention_days = 1',
      // The sign-in decoys are rewritten, never added or removed (a missing slot would bring back
      // the timing difference they hide).
      'DELETE FROM login_decoys',
      'INSERT INTO login_decoys (slot) VALUES (5000)',
      'TRUNCATE login_decoys',
    ];
    for (const sql of attempts) {
      const outcome = await tenantWork(orgA, (m) => m.query(sql)).then(
        () => 'ran',
        (error: Error) => error.message,
      );
      expect({ sql, outcome }).toEqual({
        sql,
        outcome: expect.stringMatching(/permission denied|must be owner|row-level security|at least 30/) as unknown,
      });
    }
    const [audit] = await asAdmin(
      (client) =>
        client
          .query<{ forged: number }>(`SELECT count(*)::int AS forged FROM audit_logs WHERE action = 'forged'`)
          .then((result) => result.rows),
      ownerUrl,
    );
    expect(audit?.forged).toBe(0);
  });

  it('the owner login, by contrast, could do all of it: the split is what closes the hole', async () => {
    // In a transaction that is rolled back: the same injected RESET ROLE on the owner's connection.
    const outcome = await asAdmin(async (client) => {
      await client.query(`BEGIN; SELECT set_config('role', 'app_user', true)`);
      try {
        await client.query('RESET ROLE; ALTER TABLE teams DISABLE ROW LEVEL SECURITY');
        return 'ran';
      } catch (error) {
        return (error as Error).message;
      } finally {
        await client.query('ROLLBACK');
      }
    }, ownerUrl);
    expect(outcome).toBe('ran');
  });

  it('the api refuses to start when DATABASE_URL signs in as the owner (DATABASE_ROLE_CHECK=refuse)', async () => {
    const failed = await createTestApp({
      database: { ...database, drop: () => Promise.resolve() },
      env: { DATABASE_URL: ownerUrl, DATABASE_ROLE_CHECK: 'refuse' },
    }).then(
      async (app) => {
        await app.close();
        return 'started';
      },
      (error: Error) => error.message,
    );
    expect(failed).toMatch(/DATABASE_URL's role "postgres" is a superuser.*owns \d+ object/);
    expect(failed).toContain('DATABASE_ROLE_CHECK=refuse');
  });

  it('migrate will not hand DATABASE_URL to a login that owns objects', async () => {
    await asAdmin(async (client) => {
      await client.query(`CREATE ROLE "${intruder}" LOGIN`);
      await client.query(`CREATE TABLE "owned_${suffix}" (x int)`);
      await client.query(`ALTER TABLE "owned_${suffix}" OWNER TO "${intruder}"`);
    }, ownerUrl);
    try {
      const run = migrate({ DATABASE_URL: withLogin(ownerUrl, intruder, 'x'), DATABASE_MIGRATION_URL: ownerUrl });
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain(`migrate failed: the runtime login "${intruder}" owns 1 object(s)`);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      const [member] = await asAdmin((client) =>
        client
          .query<{ member: boolean }>(`SELECT pg_has_role($1, 'app_user', 'MEMBER') AS member`, [intruder])
          .then((result) => result.rows),
      );
      expect(member?.member).toBe(false);
    } finally {
      await asAdmin((client) => client.query(`DROP TABLE "owned_${suffix}"`), ownerUrl);
    }
    // Nor to one that may become a role with more rights than app_user.
    await asAdmin(async (client) => {
      await client.query(`CREATE ROLE "${member}" LOGIN NOINHERIT`);
      await client.query(`GRANT pg_write_server_files TO "${member}"`);
    });
    const run = migrate({ DATABASE_URL: withLogin(ownerUrl, member, 'x'), DATABASE_MIGRATION_URL: ownerUrl });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`"${member}" is a member of pg_write_server_files`);
  });

  it('takes CONNECT and TEMP from PUBLIC: a login of another deployment cannot even connect', async () => {
    await asAdmin((client) => client.query(`CREATE ROLE "${outsider}" LOGIN`));
    const outcome = await asAdmin(() => Promise.resolve('connected'), withLogin(ownerUrl, outsider, 'x')).catch(
      (error: Error) => error.message,
    );
    expect(outcome).toMatch(/permission denied for database/);
  });
});
