/** The role every unit of work runs as: row-level security applies to it (it owns no table). */
export const APP_DB_ROLE = 'app_user';

/**
 * The one statement that opens a unit of work: the transaction, and for it alone the role, the
 * tenant and whether it is a system unit. Two statements need the simple protocol, so no
 * parameters: the organization id must already be checked to be a UUID. Kept apart (no imports)
 * so the benchmark's raw-SQL floor runs exactly this text.
 */
export function openUnitOfWorkSql(scope: { organizationId?: string | null; system: boolean }): string {
  return (
    `START TRANSACTION; SELECT set_config('role', '${APP_DB_ROLE}', true), ` +
    `set_config('app.org_id', '${scope.organizationId ?? ''}', true), ` +
    `set_config('app.system', '${scope.system ? 'on' : 'off'}', true)`
  );
}
