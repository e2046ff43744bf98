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
  ownedObjects: number;
}

const LOGIN_ROLE_SQL = `
  SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypass_rls,
         r.rolcreaterole AS create_role,
         (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relowner = r.oid AND n.nspname NOT IN ('pg_catalog', 'information_schema')
             AND n.nspname NOT LIKE 'pg\\_toast%') AS owned_objects
    FROM pg_roles r WHERE r.rolname = $1`;

async function readRole(query: Query, name: string): Promise<LoginRole | undefined> {
  const [row] = await query(LOGIN_ROLE_SQL, [name]);
  if (!row) return undefined;
  return {
    name: String(row.name),
    superuser: row.superuser === true,
    bypassRls: row.bypass_rls === true,
    createRole: row.create_role === true,
    ownedObjects: Number(row.owned_objects),
  };
}

/** What a login could do beyond `app_user`, in words; empty when it is a least-privilege runtime login. */
export function excessRights(role: LoginRole): string[] {
  const found: string[] = [];
  if (role.superuser) found.push('is a superuser (row-level security does not bind it)');
  if (role.bypassRls) found.push('has BYPASSRLS');
  if (role.createRole) found.push('has CREATEROLE');
  if (role.ownedObjects > 0) {
    found.push(`owns ${role.ownedObjects} table(s) or other objects (it could ALTER, DROP, or turn RLS off)`);
  }
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
 * owner: creates that login when missing (NOINHERIT, with DATABASE_URL's password), makes an
 * existing one NOINHERIT, and grants it `app_user`, CONNECT and reading `schema_migrations` (the
 * pending-migration check), nothing else. Refuses a login that owns objects or bypasses RLS.
 */
export async function provisionRuntimeRole(
  dataSource: DataSource,
  runtimeUrl: string,
  log: (line: string) => void,
): Promise<void> {
  const query: Query = (sql, parameters) => dataSource.query(sql, parameters);
  const runtime = loginOf(runtimeUrl);
  if (!runtime) throw new Error('DATABASE_URL names no user: the runtime login must be named in the URL.');
  const [self] = await query('SELECT current_user AS name, current_database() AS database');
  if (runtime === self?.name) {
    log(`one role: "${runtime}" owns the schema and runs the app (set DATABASE_MIGRATION_URL to split them)`);
    return;
  }
  const existing = await readRole(query, runtime);
  if (existing) {
    const excess = excessRights(existing);
    if (excess.length > 0) {
      throw new Error(
        `the runtime login "${runtime}" ${excess.join(', ')}: give DATABASE_URL a login that owns nothing`,
      );
    }
    await execute(query, `SELECT format('ALTER ROLE %I NOINHERIT', $1::text) AS sql`, [runtime]);
  } else {
    const password = new URL(runtimeUrl).password;
    await execute(
      query,
      password
        ? `SELECT format('CREATE ROLE %I LOGIN NOINHERIT PASSWORD %L', $1::text, $2::text) AS sql`
        : `SELECT format('CREATE ROLE %I LOGIN NOINHERIT', $1::text) AS sql`,
      password ? [runtime, decodeURIComponent(password)] : [runtime],
    );
    log(`created the runtime login "${runtime}"`);
  }
  await execute(query, `SELECT format('GRANT %I TO %I', $1::text, $2::text) AS sql`, [APP_DB_ROLE, runtime]);
  await execute(query, `SELECT format('GRANT CONNECT ON DATABASE %I TO %I', $1::text, $2::text) AS sql`, [
    String(self?.database),
    runtime,
  ]);
  await execute(query, `SELECT format('GRANT USAGE ON SCHEMA public TO %I', $1::text) AS sql`, [runtime]);
  await execute(query, `SELECT format('GRANT SELECT ON schema_migrations TO %I', $1::text) AS sql`, [runtime]);
  log(`runtime login "${runtime}": NOINHERIT, member of ${APP_DB_ROLE}, owns nothing`);
}

/** DDL takes no parameters: the statement is built by the server's format() (%I, %L quoting), then run. */
async function execute(query: Query, builder: string, parameters: unknown[]): Promise<void> {
  const [row] = await query(builder, parameters);
  await query(String(row?.sql));
}
