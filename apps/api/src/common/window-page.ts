import type { TenantTransaction } from '@app/database';
import type { EntityManager } from 'typeorm';

/**
 * A page statement and the count for a page past the end, both over the same filters; the count
 * comes back as `__total` (`count(*) OVER () AS "__total"` in the page).
 */
export interface WindowPageSql {
  /** Takes the filters' parameters, then LIMIT and OFFSET; every row carries `__total`. */
  page: string;
  /** Takes the filters' parameters; one row with `__total`. */
  count: string;
}

/**
 * A page in one statement: its rows and, from the window count they carry, how many match. An
 * empty first page is a total of 0 at once; an empty later page (past the end) costs one COUNT
 * more. Rows still carry `__total`; the caller maps them to what it shows.
 */
export async function windowPage<R>(
  transactions: TenantTransaction,
  manager: EntityManager,
  sql: WindowPageSql,
  parameters: readonly unknown[],
  limit: number,
  offset: number,
): Promise<{ rows: Array<R & { __total: string }>; total: number }> {
  const rows = await transactions.rows<R & { __total: string }>(manager, sql.page, [...parameters, limit, offset]);
  const first = rows[0];
  if (first) return { rows, total: Number(first.__total) };
  if (offset === 0) return { rows, total: 0 };
  const [counted] = await transactions.rows<{ __total: string }>(manager, sql.count, parameters);
  return { rows, total: Number(counted?.__total ?? 0) };
}
