import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { createDataSource, settingsFor } from './data-source.factory';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded-postgres';

/**
 * Migrates a new in-memory embedded database and writes its data directory to `file` as an
 * archive that EMBEDDED_DB_TEMPLATE loads. Written beside `file` and renamed into place, so a
 * reader never sees half an archive. Returns how many migrations it applied.
 */
export async function writeMigratedSnapshot(file: string): Promise<number> {
  const embedded = await startEmbeddedPostgres('memory://');
  try {
    const applied = await migrate(embedded, 'memory://');
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, await embedded.dump());
    renameSync(partial, file);
    return applied;
  } finally {
    await embedded.stop();
  }
}

/**
 * Migrates a new embedded database in the directory `dir` (which must not exist) and shuts it
 * down cleanly, so a copy of the directory starts as a migrated database. Made in a directory beside
 * `dir` and renamed into place, so a reader never sees half of one. Returns how many migrations it
 * applied.
 */
export async function writeMigratedDataDir(dir: string): Promise<number> {
  const partial = `${dir}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  try {
    const embedded = await startEmbeddedPostgres(partial);
    let applied: number;
    try {
      applied = await migrate(embedded, partial);
    } finally {
      await embedded.stop();
    }
    renameSync(partial, dir);
    return applied;
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

async function migrate(embedded: EmbeddedPostgresHandle, path: string): Promise<number> {
  const dataSource = createDataSource(
    settingsFor({ kind: 'embedded', path, statementTimeoutMs: 120_000 }, embedded, 'db-snapshot'),
  );
  await dataSource.initialize();
  try {
    return (await dataSource.runMigrations({ transaction: 'each' })).length;
  } finally {
    await dataSource.destroy();
  }
}
