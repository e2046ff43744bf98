import { InitialSchema1764230400000 } from './1764230400000-initial-schema';

/** Every migration, in order. Listed explicitly so the compiled apps need no file globbing. */
export const MIGRATIONS = [InitialSchema1764230400000];
export { TENANT_TABLES } from './1764230400000-initial-schema';
