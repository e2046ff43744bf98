import { spawnSync } from 'node:child_process';
import { MIGRATIONS } from '../../migrations';
import { BUILT_ENTRY, createTestApp, type TestApp } from '@app/testing';

/** The built image's migrate commands, and readiness that waits for them when asked to. */
describe('migrate, migrate:revert and a readiness that waits for the schema', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { READINESS_REQUIRES_CURRENT_SCHEMA: 'true' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const command = (name: string) => {
    const run = spawnSync(process.execPath, [BUILT_ENTRY.api, name], {
      env: {
        PATH: process.env.PATH,
        ENV_FILE: 'none',
        NODE_ENV: 'test',
        LOG_FORMAT: 'json',
        DATABASE_URL: t.database.env.DATABASE_URL,
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    return run.stdout;
  };
  const health = () => t.inject({ method: 'GET', url: '/api/v1/health' });
  const applied = async () =>
    (await t.dataSource.query<Array<{ name: string }>>('SELECT name FROM schema_migrations ORDER BY id')).map(
      (row) => row.name,
    );

  it('reverts the last migration, keeps readiness down until migrate has run again, then passes', async () => {
    const last = MIGRATIONS.at(-1)?.name;
    expect(last).toBeDefined();
    expect((await applied()).at(-1)).toBe(last);

    expect(command('migrate:revert')).toContain(`reverted ${last}`);
    expect(await applied()).not.toContain(last);

    const behind = await health();
    expect(behind.statusCode).toBe(503);
    expect(behind.json()).toMatchObject({ type: '/problems/not-ready', checks: { database: 'up', schema: 'down' } });

    expect(command('migrate')).toContain(`applied ${last}`);
    expect((await applied()).at(-1)).toBe(last);
    const ready = await health();
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { database: 'up', schema: 'up' } });
  });
});
