/*
 * The account export job's time for a person with 1,000 audit rows (and a membership, sessions and
 * an API key): AccountExportProcessor.handle, the job's own work (gather, store, mail into the
 * outbox), measured five times after one warm-up. Embedded database, or under BENCH_SERVICES=1
 * PostgreSQL + Redis. Prints the median and the spread; asserts nothing about time.
 */
import { performance } from 'node:perf_hooks';
import { AuditService } from '@app/audit';
import { AccountExport, TenantTransaction } from '@app/database';
import { AccountExportProcessor } from '@app/jobs';
import { bearer, createTestApp, registerAndLogin, type TestApp } from '@app/testing';

const AUDIT_ROWS = Number(process.env.EXPORT_BENCH_AUDIT_ROWS ?? 1000);

describe('account export job', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ redis: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  it(`measures one export of a person with ${AUDIT_ROWS} audit rows`, async () => {
    const ann = await registerAndLogin(t, 'bench-export');
    const org = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(ann.tokens.access_token),
      payload: { name: 'Bench export' },
    });
    const orgId = org.json<{ id: string }>().id;
    const audit = t.app.get(AuditService);
    const transactions = t.app.get(TenantTransaction);
    await transactions.runAsSystem(async (manager) => {
      const existing = await manager.query<Array<{ n: string }>>(
        'SELECT count(*)::text AS n FROM audit_logs WHERE actor_id = $1',
        [ann.userId],
      );
      for (let i = Number(existing[0]?.n ?? 0); i < AUDIT_ROWS; i += 1) {
        await audit.record(
          {
            action: 'bench.event',
            outcome: 'success',
            actorId: ann.userId,
            organizationId: orgId,
            metadata: { index: i },
          },
          manager,
        );
      }
    });
    const processor = t.app.get(AccountExportProcessor);
    const once = async (): Promise<number> => {
      const exportId = await transactions.runAsSystem(async (manager) => {
        const row = manager.create(AccountExport, { userId: ann.userId, status: 'pending' });
        await manager.insert(AccountExport, row);
        return row.id;
      });
      const begin = performance.now();
      await processor.handle({ exportId });
      const elapsed = performance.now() - begin;
      const [row] = await t.dataSource.query<Array<{ status: string; archive: string }>>(
        'SELECT status, archive FROM account_exports WHERE id = $1',
        [exportId],
      );
      if (row?.status !== 'ready') throw new Error(`export not ready: ${row?.status}`);
      const rows = (JSON.parse(row.archive) as { auditLog: unknown[] }).auditLog.length;
      if (rows < AUDIT_ROWS) throw new Error(`only ${rows} audit rows exported`);
      return elapsed;
    };
    await once();
    const samples: number[] = [];
    for (let i = 0; i < 5; i += 1) samples.push(await once());
    samples.sort((a, b) => a - b);
    const database = process.env.TEST_PG_TEMPLATE ? 'PostgreSQL + Redis' : 'embedded (PGlite, in-process jobs)';
    process.stdout.write(
      `\nAccount export job, ${AUDIT_ROWS} audit rows, ${database}: median ${samples[2]?.toFixed(1)} ms ` +
        `(min ${samples[0]?.toFixed(1)}, max ${samples[4]?.toFixed(1)})\n`,
    );
    expect(samples).toHaveLength(5);
  });
});
