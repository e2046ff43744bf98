import { InitialSchema1764230400000 } from './1764230400000-initial-schema';
import { CatalogueGrants1764316800000 } from './1764316800000-catalogue-grants';
import { AttemptReservations1764403200000 } from './1764403200000-attempt-reservations';
import { AuditChain1764489600000 } from './1764489600000-audit-chain';

/** Every migration, in order. Listed explicitly so the compiled apps need no file globbing. */
export const MIGRATIONS = [
  InitialSchema1764230400000,
  CatalogueGrants1764316800000,
  AttemptReservations1764403200000,
  AuditChain1764489600000,
];
export { TENANT_TABLES } from './1764230400000-initial-schema';
