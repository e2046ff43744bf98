import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { embeddedTemplate } from './embedded-template';
import { databaseUrl, readServicesEnv } from './services-env';

export interface TestDatabase {
  kind: 'embedded' | 'postgres';
  /** Environment for AppConfig: DATABASE_URL for Postgres, an in-memory PGlite otherwise. */
  env: Record<string, string | undefined>;
  drop(): Promise<void>;
}

/**
 * A fresh database for one test file: a clone of the migrated template database on real Postgres
 * (test:services), or an in-memory PGlite started from the migrated archive (npm test).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const services = readServicesEnv();
  if (!services) {
    return {
      kind: 'embedded',
      env: { DATABASE_URL: undefined, EMBEDDED_DB_PATH: 'memory://', EMBEDDED_DB_TEMPLATE: await embeddedTemplate() },
      drop: () => Promise.resolve(),
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
