import 'reflect-metadata';
import { createDataSource } from '@app/database';
import { Client } from 'pg';
import { databaseUrl, SERVICES_ENV } from './services-env';

/**
 * Creates one migrated template database per run. Each test file then clones it
 * (CREATE DATABASE ... TEMPLATE), which takes milliseconds instead of re-running migrations.
 */
export default async function setup(): Promise<void> {
  const adminUrl = process.env[SERVICES_ENV.adminUrl] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const template = `saas_tpl_${runId}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${template}"`);
  } finally {
    await admin.end();
  }
  const dataSource = createDataSource({
    target: { url: databaseUrl(adminUrl, template) },
    poolSize: 1,
    statementTimeoutMs: 30_000,
    applicationName: 'test-template',
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  await dataSource.destroy();
  process.env[SERVICES_ENV.adminUrl] = adminUrl;
  process.env[SERVICES_ENV.template] = template;
  process.env[SERVICES_ENV.runId] = runId;
  process.env[SERVICES_ENV.redisUrl] ??= 'redis://127.0.0.1:6379';
}
