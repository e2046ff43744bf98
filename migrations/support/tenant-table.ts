/**
 * Row-level security for a table of one organization's rows (it has an `organization_id`): the
 * application role may use it, and sees and writes only the rows of the organization its unit of
 * work runs for (all of them in an explicit system unit of work). FORCE applies it to the owner too.
 */
export function tenantTableSecurity(table: string): string[] {
  return [
    `GRANT SELECT, INSERT, UPDATE, DELETE ON "${table}" TO app_user`,
    `ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE "${table}" FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY tenant_isolation ON "${table}"
       USING (app_is_system() OR organization_id = app_current_org())
       WITH CHECK (app_is_system() OR organization_id = app_current_org())`,
  ];
}

/** What `tenantTableSecurity` did, undone (for a migration's down()). */
export function dropTenantTableSecurity(table: string): string[] {
  return [
    `DROP POLICY IF EXISTS tenant_isolation ON "${table}"`,
    `ALTER TABLE "${table}" NO FORCE ROW LEVEL SECURITY`,
    `ALTER TABLE "${table}" DISABLE ROW LEVEL SECURITY`,
    `REVOKE ALL ON "${table}" FROM app_user`,
  ];
}
