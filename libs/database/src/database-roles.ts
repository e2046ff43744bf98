import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { APP_DB_ROLE } from './tenant-sql';

/**
 * Least privilege on PostgreSQL. Two logins:
 * - the schema owner (DATABASE_MIGRATION_URL): runs migrations, owns every table, and creates
 *   the `app_user` role; used by the migrate step only;
 * - the runtime login (DATABASE_URL): owns nothing, is NOINHERIT, and is a member of `app_user`
 *   only, so it holds no table right until a unit of work runs `SET ROLE app_user`. A statement
 *   injected through it cannot ALTER, DROP or turn row-level security off (only an owner can),
 *   cannot UPDATE or DELETE audit rows (the owner-only policies), and after `RESET ROLE` reads
 *   nothing at all.
 */

type Query = (sql: string, parameters?: unknown[]) => Promise<Array<Record<string, unknown>>>;

interface LoginRole {
  name: string;
  superuser: boolean;
  bypassRls: boolean;
  createRole: boolean;
  replication: boolean;
  inherit: boolean;
  ownedObjects: number;
  memberOf: string[];
}

/**
 * What a role may do in this database. Ownership counts every object the catalogue records an
 * owner dependency for (tables, functions, schemas, types...) plus the database itself, leaving
 * out temporary tables of live sessions; memberships are direct ones.
 */
const LOGIN_ROLE_SQL = `
  SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypass_rls,
         r.rolcreaterole AS create_role, r.rolreplication AS replication, r.rolinherit AS inherit,
         (SELECT count(*)::int FROM pg_shdepend d
           WHERE d.refobjid = r.oid AND d.refclassid = 'pg_authid'::regclass AND d.deptype = 'o'
             AND d.dbid = db.oid
             AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE d.classid = 'pg_class'::regclass AND c.oid = d.objid
                                AND n.nspname LIKE 'pg\\_temp%'))
           + CASE WHEN db.datdba = r.oid THEN 1 ELSE 0 END AS owned_objects,
         ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                WHERE m.member = r.oid ORDER BY 1) AS member_of
    FROM pg_roles r, pg_database db
   WHERE r.rolname = $1 AND db.datname = current_database()`;

async function readRole(query: Query, name: string): Promise<LoginRole | undefined> {
  const [row] = await query(LOGIN_ROLE_SQL, [name]);
  if (!row) return undefined;
  return {
    name: String(row.name),
    superuser: row.superuser === true,
    bypassRls: row.bypass_rls === true,
    createRole: row.create_role === true,
    replication: row.replication === true,
    inherit: row.inherit === true,
    ownedObjects: Number(row.owned_objects),
    memberOf: Array.isArray(row.member_of) ? row.member_of.map(String) : [],
  };
}

/** What a login could do beyond `app_user`, in words; empty when it is a least-privilege runtime login. */
export function excessRights(role: LoginRole): string[] {
  const found: string[] = [];
  if (role.superuser) found.push('is a superuser (row-level security does not bind it)');
  if (role.bypassRls) found.push('has BYPASSRLS');
  if (role.createRole) found.push('has CREATEROLE');
  if (role.replication) found.push('has REPLICATION');
  if (role.ownedObjects > 0) {
    found.push(
      `owns ${role.ownedObjects} object(s) in this database (tables, functions, schemas or the database: ` +
        'it could ALTER, DROP, or turn RLS off)',
    );
  }
  const others = role.memberOf.filter((name) => name !== APP_DB_ROLE);
  if (others.length > 0) found.push(`is a member of ${others.join(', ')} (it could SET ROLE to them)`);
  return found;
}

/** The user name a connection URL signs in as (decoded), or undefined when it names none. */
export function loginOf(url: string): string | undefined {
  const user = new URL(url).username;
  return user ? decodeURIComponent(user) : undefined;
}

/**
 * At start (api and worker, PostgreSQL only): reads what the login of DATABASE_URL may do, and
 * warns, or refuses to start with `refuse` (the production default), when it is more than a
 * runtime login should be. The embedded database has one superuser and is not checked.
 */
export async function checkRuntimeRole(
  dataSource: DataSource,
  mode: 'warn' | 'refuse' | 'off',
  warn: (message: string) => void,
): Promise<void> {
  if (mode === 'off') return;
  const query: Query = (sql, parameters) => dataSource.query(sql, parameters);
  const [self] = await query('SELECT current_user AS name');
  const role = await readRole(query, String(self?.name));
  const excess = role ? excessRights(role) : [];
  // Whatever the login may become must be no more than app_user was made to be.
  const appRole = await readRole(query, APP_DB_ROLE);
  if (appRole && (appRole.superuser || appRole.bypassRls || appRole.memberOf.length > 0)) {
    excess.push(`can become ${APP_DB_ROLE}, which ${excessRights(appRole).join(', ')}`);
  }
  if (excess.length === 0) return;
  const message =
    `Database: DATABASE_URL's role "${role?.name}" ${excess.join(', ')}. The runtime login should own ` +
    'nothing and only become app_user: set DATABASE_MIGRATION_URL to the owner and DATABASE_URL to a ' +
    'login the migrate step provisions (docs/database-roles.md).';
  if (mode === 'refuse') throw new Error(`${message} (DATABASE_ROLE_CHECK=refuse)`);
  warn(message);
}

/**
 * Run by the migrate step on the owner's connection when DATABASE_URL's login differs from the
 * owner, in one transaction under an advisory lock (replicas with MIGRATE_ON_START may race):
 * - creates that login when missing (LOGIN NOINHERIT; its password sent as a SCRAM verifier, so
 *   the clear text never reaches the server's logs), or makes an existing one NOINHERIT; refuses
 *   a login that owns objects, bypasses RLS or may become another role;
 * - grants it `app_user` (without inheritance on PostgreSQL 16+), CONNECT, USAGE on the schema and
 *   reading `schema_migrations` (the pending-migration check), nothing else;
 * - takes from PUBLIC what every role would otherwise have here: CONNECT and TEMP on the database
 *   (roles are cluster-wide: another deployment's login could connect and become app_user; temp
 *   tables would shadow real ones on a pooled connection) and CREATE on the public schema.
 */
export async function provisionRuntimeRole(
  dataSource: DataSource,
  runtimeUrl: string,
  log: (line: string) => void,
): Promise<void> {
  const runtime = loginOf(runtimeUrl);
  if (!runtime) throw new Error('DATABASE_URL names no user: the runtime login must be named in the URL.');
  const runner = dataSource.createQueryRunner();
  const query: Query = (sql, parameters) => runner.query(sql, parameters);
  try {
    const [self] = await query(
      `SELECT current_user AS name, current_database() AS database,
              current_setting('server_version_num')::int AS version`,
    );
    if (runtime === self?.name) {
      log(`one role: "${runtime}" owns the schema and runs the app (set DATABASE_MIGRATION_URL to split them)`);
      return;
    }
    await runner.startTransaction();
    await query(`SELECT pg_advisory_xact_lock(hashtextextended('saas:provision-runtime-role', 0))`);
    const existing = await readRole(query, runtime);
    if (existing) {
      const excess = excessRights(existing);
      if (excess.length > 0) {
        throw new Error(
          `the runtime login "${runtime}" ${excess.join(', ')}: give DATABASE_URL a login that owns nothing`,
        );
      }
      if (existing.inherit)
        await execute(query, `SELECT format('ALTER ROLE %I NOINHERIT', $1::text) AS sql`, [runtime]);
    } else {
      const password = new URL(runtimeUrl).password;
      await execute(
        query,
        password
          ? `SELECT format('CREATE ROLE %I LOGIN NOINHERIT PASSWORD %L', $1::text, $2::text) AS sql`
          : `SELECT format('CREATE ROLE %I LOGIN NOINHERIT', $1::text) AS sql`,
        password ? [runtime, scramVerifier(decodeURIComponent(password))] : [runtime],
      );
      log(`created the runtime login "${runtime}"`);
    }
    const database = String(self?.database);
    const grants: Array<[string, unknown[]]> = [
      [
        Number(self?.version) >= 160000
          ? `SELECT format('GRANT %I TO %I WITH INHERIT FALSE, SET TRUE', $1::text, $2::text) AS sql`
          : `SELECT format('GRANT %I TO %I', $1::text, $2::text) AS sql`,
        [APP_DB_ROLE, runtime],
      ],
      // The owner keeps CONNECT whatever PUBLIC loses (it may not own the database).
      [`SELECT format('GRANT CONNECT ON DATABASE %I TO CURRENT_USER', $1::text) AS sql`, [database]],
      [`SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', $1::text) AS sql`, [database]],
      [`SELECT format('GRANT CONNECT ON DATABASE %I TO %I', $1::text, $2::text) AS sql`, [database, runtime]],
      [`SELECT 'REVOKE CREATE ON SCHEMA public FROM PUBLIC' AS sql`, []],
      [`SELECT format('GRANT USAGE ON SCHEMA public TO %I', $1::text) AS sql`, [runtime]],
      [`SELECT format('GRANT SELECT ON schema_migrations TO %I', $1::text) AS sql`, [runtime]],
    ];
    for (const [builder, parameters] of grants) await execute(query, builder, parameters);
    await runner.commitTransaction();
    log(`runtime login "${runtime}": NOINHERIT, member of ${APP_DB_ROLE}, owns nothing`);
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction();
    throw error;
  } finally {
    await runner.release();
  }
}

/**
 * A SCRAM-SHA-256 verifier (RFC 5802/7677, the form PostgreSQL stores), so CREATE ROLE carries no
 * clear-text password. NFKC stands in for SASLprep, which agrees with it for ASCII passwords.
 */
export function scramVerifier(password: string, iterations = 4096, salt = randomBytes(16)): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * The floor under audit pruning (audit_settings, owner only): AUDIT_RETENTION_DAYS when set, so the
 * application's connection can never prune younger rows than the operator chose.
 */
export async function applyAuditRetentionFloor(
  dataSource: DataSource,
  days: number | undefined,
  log: (line: string) => void,
): Promise<void> {
  if (!days) return;
  await dataSource.query('UPDATE audit_settings SET min_retention_days = $1', [days]);
  log(`audit pruning floor: ${days} day(s)`);
}

/** DDL takes no parameters: the statement is built by the server's format() (%I, %L quoting), then run. */
async function execute(query: Query, builder: string, parameters: unknown[]): Promise<void> {
  const [row] = await query(builder, parameters);
  await query(String(row?.sql));
}
