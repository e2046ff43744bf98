import { ClsServiceManager } from 'nestjs-cls';
import type { DataSource, QueryRunner } from 'typeorm';

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
