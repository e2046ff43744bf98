import { ClsServiceManager } from 'nestjs-cls';
import type { DataSource, QueryRunner } from 'typeorm';
import type { TestApp } from './test-app';

/**
 * The SQL texts the data source's query runners send while `work` runs, in order; with
 * `requestId`, only those sent on behalf of that request (its request context), not the app's
 * background work (the outbox relay, jobs) that happens to run meanwhile. Taken on the pg
 * connection a runner holds, so statements sent straight to it (a unit of work's opening and
 * commit, TenantTransaction.rows) are seen as well as those through runner.query.
 */
export async function recordStatements(
  dataSource: DataSource,
  work: () => Promise<unknown>,
  requestId?: string,
): Promise<string[]> {
  type Connection = { query: (...args: unknown[]) => unknown };
  const original = dataSource.createQueryRunner.bind(dataSource);
  const patched = new Map<Connection, Connection['query']>();
  const statements: string[] = [];
  dataSource.createQueryRunner = (...args: Parameters<DataSource['createQueryRunner']>): QueryRunner => {
    const runner = original(...args);
    const connect = runner.connect.bind(runner);
    runner.connect = async () => {
      const connection = (await connect()) as Connection;
      if (!patched.has(connection)) {
        const query = connection.query;
        patched.set(connection, query);
        connection.query = function (this: unknown, ...queryArgs: unknown[]) {
          const cls = ClsServiceManager.getClsService();
          if (requestId === undefined || (cls.isActive() && cls.getId() === requestId)) {
            const [first] = queryArgs;
            statements.push(typeof first === 'string' ? first : String((first as { text?: unknown })?.text));
          }
          if (process.env.SHOW_SQL) process.stdout.write(`SQL ${String(queryArgs[0]).slice(0, 150)}\n`);
          return query.apply(this, queryArgs);
        };
      }
      return connection;
    };
    return runner;
  };
  try {
    await work();
  } finally {
    dataSource.createQueryRunner = original;
    for (const [connection, query] of patched) connection.query = query;
  }
  return statements;
}

/**
 * Columns that hold a credential or what verifies one (no answer that only shows a row may read
 * them), and `SELECT *` / `alias.*`, which would read them unnamed.
 */
export const CREDENTIAL_COLUMNS =
  /\b(password_hash|totp_secret_encrypted|totp_last_used_step|recovery_code_hashes|key_hash|token_hash|secret_sealed|previous_secret_sealed|oidc_client_secret)\b|\bSELECT\s+\*|\w\.\*/i;

/** What a GET that shows rows should come to: answered, its table read, no credential column read. */
export const SHOWN_ONLY = { statusCode: 200, readsTable: true, credentialReads: [] as string[] };

/**
 * One GET through the app, as `token`'s bearer, judged by the SQL sent on its behalf: its status,
 * whether a statement read `table` (so the route's own read was recorded, not only the unit of
 * work's opening and COMMIT), and the statements naming a credential column or selecting `*`.
 * Compare with SHOWN_ONLY.
 */
export async function readsOf(
  t: TestApp,
  url: string,
  token: string,
  table: string,
): Promise<{ statusCode: number; readsTable: boolean; credentialReads: string[] }> {
  const requestId = `recording-${Math.random().toString(36).slice(2)}`;
  let statusCode = 0;
  const statements = await recordStatements(
    t.dataSource,
    async () => {
      const response = await t.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId },
      });
      statusCode = response.statusCode;
    },
    requestId,
  );
  const tableName = new RegExp(`\\b${table}\\b`);
  return {
    statusCode,
    readsTable: statements.some((sql) => tableName.test(sql)),
    credentialReads: statements.filter((sql) => CREDENTIAL_COLUMNS.test(sql)),
  };
}
