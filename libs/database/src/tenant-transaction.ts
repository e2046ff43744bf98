import { isUuid } from '@app/common';
import { Injectable } from '@nestjs/common';
import { ClsServiceManager, type ClsStore } from 'nestjs-cls';
import { DataSource, QueryFailedError, type EntityManager, type QueryRunner } from 'typeorm';

/** The database role every unit of work runs as; row-level security applies to it. */
import { openUnitOfWorkSql } from './tenant-sql';

export { APP_DB_ROLE } from './tenant-sql';

const ACTIVE_SCOPE = Symbol('tenant-transaction');

interface ActiveScope {
  manager: EntityManager;
  organizationId: string | null;
  system: boolean;
  /** Run once the outermost transaction has committed (never after a rollback). */
  afterCommit: Array<() => void>;
}

/**
 * Opens the one transaction a unit of work runs in, as the `app_user` role with the tenant
 * set locally (`app.org_id`), and hands out its EntityManager. Row-level security then refuses
 * rows of any other organization, whatever the query says.
 *
 * - `run(orgId, work)`: tenant work. Rows of other organizations are invisible and unwritable.
 * - `runAsSystem(work)`: explicit cross-tenant work (sign-in, platform admin, relays). Greppable on purpose.
 * - `runWithoutTenant(work)`: user-level work with no organization: tenant rows are invisible.
 *
 * A nested call in the same async context joins the open transaction if it is for the same scope
 * and refuses otherwise, so one request can never hold two connections (or switch tenant midway).
 */
@Injectable()
export class TenantTransaction {
  constructor(private readonly dataSource: DataSource) {}

  run<T>(organizationId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!isUuid(organizationId)) {
      return Promise.reject(new Error('TenantTransaction.run needs an organization id (UUID).'));
    }
    return this.execute({ organizationId, system: false }, work);
  }

  runWithoutTenant<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.execute({ organizationId: null, system: false }, work);
  }

  runAsSystem<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.execute({ organizationId: null, system: true }, work);
  }

  private async execute<T>(
    scope: { organizationId: string | null; system: boolean },
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    const cls = activeCls();
    const open = cls?.get<ActiveScope | undefined>(ACTIVE_SCOPE);
    if (open) {
      if (open.organizationId !== scope.organizationId || open.system !== scope.system) {
        throw new Error('A unit of work cannot switch tenant or open a second transaction.');
      }
      return work(open.manager);
    }
    const afterCommit: Array<() => void> = [];
    const runner = this.dataSource.createQueryRunner();
    // The unit of work's own two statements (open, commit) go straight to the connection when no
    // TypeORM subscriber, query logging or slow-query threshold would hear of them: TypeORM's
    // query() and commitTransaction() would only broadcast to no one (four broadcasts, a result
    // wrapper, five awaits). A module that registers a subscriber gets TypeORM's path back, with
    // the commit and rollback events (transaction-start events never fired: the transaction is
    // opened by the statement below, not by startTransaction()).
    const direct = this.direct();
    let result: T;
    try {
      // Marked first, so a failure anywhere below rolls back whatever the server opened.
      markTransactionOpen(runner);
      // One round trip opens the transaction and sets role and tenant (the organization id was
      // checked to be a UUID above).
      const open = openUnitOfWorkSql(scope);
      if (direct) await sendDirect(runner, open);
      else await runner.query(open);
      const manager = runner.manager;
      // The request's context plus the open unit of work, in a copy: the caller's never holds it.
      const active: ActiveScope = { manager, ...scope, afterCommit };
      result = cls
        ? await cls.runWith({ ...(cls.get() as ClsStore | undefined), [ACTIVE_SCOPE]: active }, async () => {
            try {
              return await work(manager);
            } finally {
              cls.set(ACTIVE_SCOPE, undefined);
            }
          })
        : await work(manager);
      if (direct && depthOf(runner) === 1) {
        await sendDirect(runner, 'COMMIT');
        markTransactionClosed(runner);
      } else await runner.commitTransaction();
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
    for (const callback of afterCommit) {
      try {
        callback();
      } catch {
        // A post-commit nudge must not turn a committed unit of work into an error.
      }
    }
    return result;
  }

  /**
   * The rows of one SELECT in an open unit of work (`manager` is the one `run` handed out), as
   * manager.query returns them. For SELECTs only: for an UPDATE or DELETE, manager.query returns
   * `[rows, rowCount]`, and this would not. Sent straight to the connection when nothing hears
   * TypeORM's query events (the test execute() applies to its own statements): the per-request
   * reads (GET /users/me, the teams and member lists, a team, TenantResources' pages and rows)
   * skip a broadcast before and after, a result wrapper and their awaits.
   */
  rows<T>(manager: EntityManager, sql: string, parameters: readonly unknown[]): Promise<T[]> {
    const runner = manager.queryRunner;
    if (!runner || runner.isReleased || !this.direct()) return manager.query<T[]>(sql, [...parameters]);
    return sendDirect(runner, sql, parameters) as Promise<T[]>;
  }

  private direct(): boolean {
    const { logging, maxQueryExecutionTime } = this.dataSource.options;
    return this.dataSource.subscribers.length === 0 && !logging && !maxQueryExecutionTime;
  }

  /**
   * Runs `callback` after the open unit of work commits (not at all if it rolls back); at once
   * when none is open. For nudges (the outbox relay), never for work that must not be lost.
   */
  afterCommit(callback: () => void): void {
    const open = activeCls()?.get<ActiveScope | undefined>(ACTIVE_SCOPE);
    if (open) open.afterCommit.push(callback);
    else callback();
  }
}

/**
 * Tells TypeORM the runner is inside a transaction we opened ourselves (with the tenant settings
 * in the same round trip), so commit/rollback work and a nested manager.transaction() uses a
 * savepoint. The same two fields startTransaction() sets; tested in row-level-security.e2e-spec.
 */
function markTransactionOpen(runner: QueryRunner): void {
  const state = runner as unknown as { isTransactionActive: boolean; transactionDepth: number };
  state.isTransactionActive = true;
  state.transactionDepth = 1;
}

function depthOf(runner: QueryRunner): number {
  return (runner as unknown as { transactionDepth: number }).transactionDepth;
}

/** After a COMMIT sent on the connection itself: what commitTransaction() leaves behind. */
function markTransactionClosed(runner: QueryRunner): void {
  const state = runner as unknown as { isTransactionActive: boolean; transactionDepth: number };
  state.isTransactionActive = false;
  state.transactionDepth = 0;
}

/**
 * One statement on the pg client under a query runner (taken from the pool on first use, as
 * runner.query would); its rows. Without parameters it goes as a simple query (the opening
 * statement is several in one text). A failure is wrapped as TypeORM's would be
 * (QueryFailedError, the driver's error as `driverError`), so error mapping sees the same thing
 * on either path.
 */
async function sendDirect(runner: QueryRunner, sql: string, parameters?: readonly unknown[]): Promise<unknown[]> {
  const connection = (await runner.connect()) as {
    query(sql: string, parameters?: readonly unknown[]): Promise<{ rows: unknown[] }>;
  };
  try {
    const result = parameters ? await connection.query(sql, parameters) : await connection.query(sql);
    return result.rows;
  } catch (error) {
    throw new QueryFailedError(sql, parameters ? [...parameters] : undefined, error as Error);
  }
}

function activeCls() {
  try {
    return ClsServiceManager.getClsService();
  } catch {
    return undefined;
  }
}
