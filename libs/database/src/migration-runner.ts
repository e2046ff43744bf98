import type { AppConfig } from '@app/config';
import { createDataSource, settingsFor } from './data-source.factory';

/** Undoes the last applied migration (its `down`), one per call. Used by `npm run migration:revert`. */
export async function revertLastMigration(config: AppConfig, log: (line: string) => void): Promise<void> {
  if (config.database.kind !== 'postgres') {
    throw new Error('DATABASE_URL is not set: revert a migration of a PostgreSQL database.');
  }
  const dataSource = createDataSource(settingsFor(config.database, undefined, 'migrations'));
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

/** Applies pending migrations to DATABASE_URL and reports what ran. Used by `npm run migration:run`. */
export async function runMigrations(config: AppConfig, log: (line: string) => void): Promise<number> {
  if (config.database.kind !== 'postgres') {
    throw new Error('DATABASE_URL is not set: the embedded database migrates itself at start.');
  }
  const dataSource = createDataSource(settingsFor(config.database, undefined, 'migrations'));
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    for (const migration of applied) log(`applied ${migration.name}`);
    if (applied.length === 0) log('database is up to date');
    return applied.length;
  } finally {
    await dataSource.destroy();
  }
}
