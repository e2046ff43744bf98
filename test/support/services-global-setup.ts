import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { databaseUrl, SERVICES_ENV } from './services-env';

/**
 * Creates one migrated template database per run, migrated by the built api's own `migrate`
 * command (as operators run it). Each test file then clones it (CREATE DATABASE ... TEMPLATE),
 * which takes milliseconds instead of re-running migrations.
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
  const entry = join(__dirname, '..', '..', 'dist/apps/api/apps/api/src/main.js');
  execFileSync(process.execPath, [entry, 'migrate'], {
    env: { ...process.env, ENV_FILE: 'none', DATABASE_URL: databaseUrl(adminUrl, template), LOG_LEVEL: 'warn' },
    stdio: 'inherit',
  });
  process.env[SERVICES_ENV.adminUrl] = adminUrl;
  process.env[SERVICES_ENV.template] = template;
  process.env[SERVICES_ENV.runId] = runId;
  process.env[SERVICES_ENV.redisUrl] ??= 'redis://127.0.0.1:6379';
}
