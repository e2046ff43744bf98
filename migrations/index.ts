import { InitialSchema1764230400000, TENANT_TABLES as INITIAL_TENANT_TABLES } from './1764230400000-initial-schema';
import { CatalogueGrants1764316800000 } from './1764316800000-catalogue-grants';
import { AttemptReservations1764403200000 } from './1764403200000-attempt-reservations';
import { AuditChain1764489600000 } from './1764489600000-audit-chain';
import { Projects1764576000000 } from './1764576000000-projects';
import { AuditRetention1764662400000 } from './1764662400000-audit-retention';
import { Llm1764748800000 } from './1764748800000-llm';
import { DependencyReports1764835200000 } from './1764835200000-dependency-reports';
import { SecurityEvents1764921600000 } from './1764921600000-security-events';
import { SingleSignOn1765008000000 } from './1765008000000-single-sign-on';
import { OidcConnections1765094400000 } from './1765094400000-oidc-connections';
import { Scim1765180800000 } from './1765180800000-scim';
import { SsoTeamMappings1765267200000 } from './1765267200000-sso-team-mappings';
import { ScimGroups1765353600000 } from './1765353600000-scim-groups';
import { Webhooks1765440000000 } from './1765440000000-webhooks';
import { Passkeys1765526400000 } from './1765526400000-passkeys';
import { Impersonation1765612800000 } from './1765612800000-impersonation';
import { AuditPersonalData1765699200000 } from './1765699200000-audit-personal-data';
import { AccountErasure1765785600000 } from './1765785600000-account-erasure';
import { AccountExports1765872000000 } from './1765872000000-account-exports';
import { OrganizationDeletion1765958400000 } from './1765958400000-organization-deletion';
import { OrganizationExports1766044800000 } from './1766044800000-organization-exports';
import { AuditPruneFloor1766131200000 } from './1766131200000-audit-prune-floor';
import { LoginDecoys1766217600000 } from './1766217600000-login-decoys';
// generate:resource imports (npm run generate:resource adds lines above these markers)

/** Every migration, in order. Listed explicitly so the compiled apps need no file globbing. */
export const MIGRATIONS = [
  InitialSchema1764230400000,
  CatalogueGrants1764316800000,
  AttemptReservations1764403200000,
  AuditChain1764489600000,
  Projects1764576000000,
  AuditRetention1764662400000,
  Llm1764748800000,
  DependencyReports1764835200000,
  SecurityEvents1764921600000,
  SingleSignOn1765008000000,
  OidcConnections1765094400000,
  Scim1765180800000,
  SsoTeamMappings1765267200000,
  ScimGroups1765353600000,
  Webhooks1765440000000,
  Passkeys1765526400000,
  Impersonation1765612800000,
  AuditPersonalData1765699200000,
  AccountErasure1765785600000,
  AccountExports1765872000000,
  OrganizationDeletion1765958400000,
  OrganizationExports1766044800000,
  AuditPruneFloor1766131200000,
  LoginDecoys1766217600000,
  // generate:resource migrations
];

/** Every table of one organization's rows (RLS enabled and forced), from the migrations that made them. */
export const TENANT_TABLES: readonly string[] = [
  ...INITIAL_TENANT_TABLES,
  ...MIGRATIONS.flatMap((migration) =>
    'tenantTables' in migration ? (migration as { tenantTables: readonly string[] }).tenantTables : [],
  ),
];
export { tenantTableSecurity, dropTenantTableSecurity } from './support/tenant-table';
export { LOGIN_DECOY_SLOTS } from './1766217600000-login-decoys';
