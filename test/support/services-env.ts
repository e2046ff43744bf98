/** What the services run shares between its global setup and the test files (through the environment). */
export const SERVICES_ENV = {
  adminUrl: 'TEST_PG_ADMIN_URL',
  template: 'TEST_PG_TEMPLATE',
  runId: 'TEST_RUN_ID',
  redisUrl: 'TEST_REDIS_URL',
} as const;

export function readServicesEnv(): { adminUrl: string; template: string; runId: string; redisUrl: string } | undefined {
  const template = process.env[SERVICES_ENV.template];
  if (!template) return undefined;
  return {
    adminUrl: process.env[SERVICES_ENV.adminUrl] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    template,
    runId: process.env[SERVICES_ENV.runId] ?? 'run',
    redisUrl: process.env[SERVICES_ENV.redisUrl] ?? 'redis://127.0.0.1:6379',
  };
}

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
