import { renameSync, writeFileSync } from 'node:fs';
import { createDataSource, settingsFor } from './data-source.factory';
import { startEmbeddedPostgres } from './embedded-postgres';

/**
 * Migrates a new in-memory embedded database and writes its data directory to `file` as an
 * archive that EMBEDDED_DB_TEMPLATE loads. Written beside `file` and renamed into place, so a
 * reader never sees half an archive. Returns how many migrations it applied.
 */
export async function writeMigratedSnapshot(file: string): Promise<number> {
  const embedded = await startEmbeddedPostgres('memory://');
  try {
    const dataSource = createDataSource(
      settingsFor({ kind: 'embedded', path: 'memory://', statementTimeoutMs: 120_000 }, embedded, 'db-snapshot'),
    );
    await dataSource.initialize();
    let applied: number;
    try {
      applied = (await dataSource.runMigrations({ transaction: 'each' })).length;
    } finally {
      await dataSource.destroy();
    }
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, await embedded.dump());
    renameSync(partial, file);
    return applied;
  } finally {
    await embedded.stop();
  }
}
