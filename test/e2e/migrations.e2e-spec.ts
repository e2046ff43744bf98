import { MIGRATIONS } from '@app/migrations';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
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

  describe('the audit log personal-data digest (1765699200000)', () => {
    const position = MIGRATIONS.findIndex((migration) => migration.name === 'AuditPersonalData1765699200000');
    const asSystem = <T>(work: (manager: EntityManager) => Promise<T>) =>
      t.dataSource.transaction(async (manager) => {
        await manager.query(`SELECT set_config('app.system', 'on', true)`);
        return work(manager);
      });
    /** Rows whose hash, personal digest or link does not verify, in any chain. */
    const brokenRows = () =>
      asSystem((manager) =>
        manager.query<Array<{ chain_seq: string }>>(
          `SELECT chain_seq FROM (
             SELECT a.chain_seq,
                    a.hash <> audit_log_digest(a.prev_hash, a.chain_seq, a)
                    OR (a.erased_at IS NULL AND a.personal_digest <> audit_log_personal_digest(a))
                    OR (a.erased_at IS NOT NULL AND (a.ip IS NOT NULL OR a.user_agent IS NOT NULL
                        OR a.personal_salt IS NOT NULL OR a.metadata <> '{}'::jsonb))
                    OR (lag(a.chain_seq) OVER w IS NOT NULL AND a.prev_hash IS DISTINCT FROM lag(a.hash) OVER w) AS broken
               FROM audit_logs a WINDOW w AS (PARTITION BY a.organization_id ORDER BY a.chain_seq)) c
            WHERE broken`,
        ),
      );
    const undoThrough = async () => {
      for (let step = position; step < MIGRATIONS.length; step++) {
        await t.dataSource.undoLastMigration({ transaction: 'each' });
      }
    };
    const subject = randomUUID();

    it('re-hashes an existing chain, which then verifies, and still verifies after an erasure', async () => {
      expect(position).toBeGreaterThan(0);
      await undoThrough();
      const org = randomUUID();
      await asSystem(async (manager) => {
        for (const [organization, index] of [
          [null, 1],
          [org, 2],
          [null, 3],
          [org, 4],
        ] as const) {
          await manager.query(
            `INSERT INTO audit_logs (id, organization_id, actor_type, actor_id, action, outcome, ip, user_agent, metadata)
             VALUES ($1, $2, 'user', $3, 'test.event', 'success', '203.0.113.7', 'agent', $4)`,
            [randomUUID(), organization, subject, JSON.stringify({ email: 'ann@example.com', index })],
          );
        }
      });
      await t.dataSource.runMigrations({ transaction: 'each' });
      expect(await brokenRows()).toEqual([]);

      // Only an erased account's rows may be erased.
      await expect(
        asSystem((manager) => manager.query('SELECT audit_log_erase_subject($1)', [subject])),
      ).rejects.toThrow(/not an erased account/);
      await asSystem((manager) =>
        manager.query(`INSERT INTO users (id, email, erased_at) VALUES ($1, $2, now())`, [
          subject,
          `erased-${subject}@erased.invalid`,
        ]),
      );
      const erased = await asSystem((manager) =>
        manager.query<Array<{ n: string }>>('SELECT audit_log_erase_subject($1)::text AS n', [subject]),
      );
      expect(erased[0]?.n).toBe('4');
      const rows = await asSystem((manager) =>
        manager.query<Array<Record<string, unknown>>>(
          'SELECT ip, user_agent, metadata, personal_salt, erased_at FROM audit_logs WHERE actor_id = $1',
          [subject],
        ),
      );
      expect(rows).toHaveLength(4);
      for (const row of rows) {
        expect(row).toMatchObject({ ip: null, user_agent: null, metadata: {}, personal_salt: null });
        expect(row.erased_at).not.toBeNull();
      }
      expect(await brokenRows()).toEqual([]);
      // A row that claims to be erased but still carries data is caught.
      await t.dataSource.query('ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY');
      await t.dataSource.query(
        `UPDATE audit_logs SET ip = '198.51.100.1' WHERE id = (SELECT id FROM audit_logs WHERE actor_id = $1 LIMIT 1)`,
        [subject],
      );
      expect(await brokenRows()).toHaveLength(1);
      await t.dataSource.query(`UPDATE audit_logs SET ip = NULL WHERE actor_id = $1`, [subject]);
      await t.dataSource.query('ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY');
      // The application role still cannot change a row by itself.
      await expect(
        asSystem(async (manager) => {
          await manager.query('SET LOCAL ROLE app_user');
          await manager.query(`UPDATE audit_logs SET action = 'forged' WHERE actor_id = $1`, [subject]);
        }),
      ).rejects.toThrow(/permission denied/);
    });

    it('refuses to re-hash a chain that is already broken', async () => {
      await undoThrough();
      await t.dataSource.query('ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY');
      await t.dataSource.query(`UPDATE audit_logs SET action = 'forged' WHERE actor_id = $1`, [subject]);
      await t.dataSource.query('ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY');
      await expect(t.dataSource.runMigrations({ transaction: 'each' })).rejects.toThrow(/broken at chain_seq/);
      // Put the row back: the chain verifies again, and the migration goes through.
      await t.dataSource.query('ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY');
      await t.dataSource.query(`UPDATE audit_logs SET action = 'test.event' WHERE actor_id = $1`, [subject]);
      await t.dataSource.query('ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY');
      await t.dataSource.runMigrations({ transaction: 'each' });
      expect(await t.dataSource.showMigrations()).toBe(false);
    });
  });
});
