import { randomBytes } from 'node:crypto';
import { accessSync, constants, cpSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { embeddedTemplate, embeddedTemplateDir } from './embedded-template';
import { databaseUrl, readServicesEnv } from './services-env';

export interface TestDatabase {
  kind: 'embedded' | 'postgres';
  /** Environment for AppConfig: DATABASE_URL for Postgres, an in-memory PGlite otherwise. */
  env: Record<string, string | undefined>;
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** npm test only: an in-memory PGlite started from the migrated archive, instead of a directory. */
  inMemory?: boolean;
}

/**
 * A fresh database for one test file: a clone of the migrated template database on real Postgres
 * (test:services); under npm test, a PGlite in a copy of the migrated data directory (removed by
 * `drop`), or in memory from the migrated archive.
 *
 * Why a directory by default: it is how the embedded default runs (EMBEDDED_DB_PATH=./.data/pglite),
 * and it boots in about half the CPU time of unpacking the 40 MB archive into PGlite's in-memory
 * file system, which every e2e file paid.
 */
/**
 * Where the copies go: a RAM file system (/dev/shm) when the machine has one with room, else the
 * temp directory. Copying the 40 MB, ~1,150-file directory onto ext4 took ~0.8 s of system time per
 * file on this machine, onto tmpfs ~0.06 s; PGlite's own writes during the tests get cheaper too.
 */
function scratchRoot(): string {
  const shm = '/dev/shm';
  try {
    accessSync(shm, constants.W_OK);
    const { bavail, bsize } = statfsSync(shm);
    if (bavail * bsize > 2 * 1024 ** 3) return shm;
  } catch {
    // no such file system here
  }
  return tmpdir();
}

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const services = readServicesEnv();
  if (!services && options.inMemory) {
    return {
      kind: 'embedded',
      env: { DATABASE_URL: undefined, EMBEDDED_DB_PATH: 'memory://', EMBEDDED_DB_TEMPLATE: await embeddedTemplate() },
      drop: () => Promise.resolve(),
    };
  }
  if (!services) {
    const template = await embeddedTemplateDir();
    const dir = mkdtempSync(join(scratchRoot(), 'saas-test-db-'));
    cpSync(template, dir, { recursive: true });
    return {
      kind: 'embedded',
      env: { DATABASE_URL: undefined, EMBEDDED_DB_PATH: dir, EMBEDDED_DB_TEMPLATE: undefined },
      drop: () => {
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  }
  const name = `saas_test_${services.runId}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: services.adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${services.template}"`);
  } finally {
    await admin.end();
  }
  return {
    kind: 'postgres',
    env: { DATABASE_URL: databaseUrl(services.adminUrl, name), MIGRATE_ON_START: 'false' },
    drop: async () => {
      const client = new Client({ connectionString: services.adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
