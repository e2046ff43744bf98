import { MIGRATIONS } from '@app/migrations';
import { createTestApp, type TestApp } from '@app/testing';

/** The migrations and the entities describe the same schema, on whichever database this run uses. */
describe('migrations', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('have all been applied', async () => {
    expect(await t.dataSource.showMigrations()).toBe(false);
  });

  it('leave nothing for TypeORM to change (entities and SQL agree)', async () => {
    const pending = await t.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('can all be reverted and re-applied', async () => {
    for (let step = 0; step < MIGRATIONS.length; step++) await t.dataSource.undoLastMigration({ transaction: 'each' });
    const [row] = await t.dataSource.query<Array<{ count: string }>>(
      `SELECT count(*)::text AS count FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'users'`,
    );
    expect(row?.count).toBe('0');
    await t.dataSource.runMigrations({ transaction: 'each' });
    expect(await t.dataSource.showMigrations()).toBe(false);
  });
});
