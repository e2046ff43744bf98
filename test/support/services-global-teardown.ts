import { Client } from 'pg';
import { readServicesEnv } from './services-env';

/** Drops the template and any per-file database a crashed test left behind. */
export default async function teardown(): Promise<void> {
  const env = readServicesEnv();
  if (!env) return;
  const admin = new Client({ connectionString: env.adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`,
      [`saas_test_${env.runId}_%`, env.template],
    );
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
