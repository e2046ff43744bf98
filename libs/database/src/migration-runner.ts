import type { AppConfig } from '@app/config';
import { createDataSource, settingsFor } from './data-source.factory';
import { applyAuditRetentionFloor, provisionRuntimeRole } from './database-roles';

/** Undoes the last applied migration (its `down`), one per call. Used by `npm run migration:revert`. */
export async function revertLastMigration(config: AppConfig, log: (line: string) => void): Promise<void> {
  if (config.database.kind !== 'postgres') {
    throw new Error('DATABASE_URL is not set: revert a migration of a PostgreSQL database.');
  }
  const dataSource = ownerDataSource(config);
  await dataSource.initialize();
  try {
    const [last] = await dataSource.query<Array<{ name: string }>>(
      'SELECT name FROM schema_migrations ORDER BY "timestamp" DESC, id DESC LIMIT 1',
    );
    if (!last) {
      log('no migration to revert');
      return;
    }
    await dataSource.undoLastMigration({ transaction: 'each' });
    log(`reverted ${last.name}`);
  } finally {
    await dataSource.destroy();
  }
}

/**
 * Applies pending migrations as the schema owner (DATABASE_MIGRATION_URL, else DATABASE_URL),
 * reports what ran, then provisions DATABASE_URL's runtime login when it is another role. Used by
 * `npm run migration:run`, the migrate command and MIGRATE_ON_START.
 */
export async function runMigrations(config: AppConfig, log: (line: string) => void): Promise<number> {
  if (config.database.kind !== 'postgres') {
    throw new Error('DATABASE_URL is not set: the embedded database migrates itself at start.');
  }
  const dataSource = ownerDataSource(config);
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    for (const migration of applied) log(`applied ${migration.name}`);
    if (applied.length === 0) log('database is up to date');
    await applyAuditRetentionFloor(dataSource, config.auditRetention.days, log);
    await provisionRuntimeRole(dataSource, config.database.url, log);
    return applied.length;
  } finally {
    await dataSource.destroy();
  }
}

/** A one-connection data source signed in as the schema owner. */
function ownerDataSource(config: AppConfig) {
  if (config.database.kind !== 'postgres') throw new Error('not a PostgreSQL database');
  return createDataSource({
    ...settingsFor(config.database, undefined, 'migrations'),
    target: { url: config.database.migrationUrl },
    poolSize: 1,
  });
}
