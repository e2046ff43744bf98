import { AuditRetentionJob } from '@app/jobs';
import { AuditLog, TenantTransaction } from '@app/database';
import { JobQueue, JobScheduler, type InProcessJobQueue } from '@app/queue';
import { bearer, createTestApp, registerAndLogin, type TestApp } from '@app/testing';

/** AUDIT_RETENTION_DAYS: a scheduled job deletes old audit rows; the chain stays verifiable. */
describe('audit log retention', () => {
  let t: TestApp;
  let orgId: string;
  let token: string;

  const rows = () =>
    t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { organizationId: orgId }, order: { chainSeq: 'ASC' } }));
  const verify = async () =>
    (
      await t.inject({
        method: 'GET',
        url: `/api/v1/organizations/${orgId}/audit-logs/verify`,
        headers: bearer(token),
      })
    ).json<{ valid: boolean; checked: number }>();

  beforeAll(async () => {
    t = await createTestApp({ env: { AUDIT_RETENTION_DAYS: '30' } });
    const owner = await registerAndLogin(t, 'retention-owner');
    token = owner.tokens.access_token;
    const org = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(token),
      payload: { name: 'Retained' },
    });
    orgId = org.json<{ id: string }>().id;
    for (const name of ['One', 'Two', 'Three']) {
      await t.inject({
        method: 'POST',
        url: `/api/v1/organizations/${orgId}/teams`,
        headers: bearer(token),
        payload: { name },
      });
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('schedules the job when the retention is set', () => {
    const next = t.app.get(JobScheduler).next('audit.retention');
    expect(next).toBeInstanceOf(Date);
    expect(next!.getTime()).toBeGreaterThan(Date.now());
    expect(next!.getTime()).toBeLessThanOrEqual(Date.now() + 24 * 3600_000);
    expect(next!.toISOString()).toMatch(/T03:30:00\.000Z$/);
  });

  it('deletes the rows older than the retention, keeps the rest, and the chain still verifies', async () => {
    const before = await rows();
    expect(before.length).toBeGreaterThanOrEqual(4);
    const [oldest, second] = before;
    // Age the first two rows (as the database owner, behind the application's back).
    await t.dataSource.query(`UPDATE audit_logs SET occurred_at = now() - interval '40 days' WHERE id = ANY($1)`, [
      [oldest!.id, second!.id],
    ]);
    // A security event from before the retention, and one from now.
    const event = (id: string, age: string) =>
      t.dataSource.query(
        `INSERT INTO security_events (id, kind, actor_type, actor_id, window_start, count, last_route, last_seen_at)
         VALUES ($1, 'cross-tenant-probe', 'user', $1, date_trunc('minute', now() - $2::interval), 1, 'GET /x', now())`,
        [id, age],
      );
    await event('01900000-0000-7000-8000-00000000e001', '40 days');
    await event('01900000-0000-7000-8000-00000000e002', '0 days');
    const queue = t.app.get<JobQueue, InProcessJobQueue>(JobQueue);
    await queue.enqueue(AuditRetentionJob, {});
    await queue.drain();

    const after = await rows();
    expect(after.map((row) => row.id)).toEqual(before.slice(2).map((row) => row.id));
    expect(await verify()).toMatchObject({ valid: true, checked: after.length });
    const [record] = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { action: 'audit.retention' } }));
    expect(record).toMatchObject({ organizationId: null, actorType: 'system', outcome: 'success' });
    expect(record?.metadata).toEqual({ days: 30, removed: 2, securityEventsRemoved: 1 });
    const left = await t.dataSource.query<Array<{ id: string }>>('SELECT id FROM security_events');
    expect(left.map((r) => r.id)).toEqual(['01900000-0000-7000-8000-00000000e002']);
  });

  it('gives the application role no way to delete recent rows', async () => {
    const work = (sql: string) => t.app.get(TenantTransaction).run(orgId, (m) => m.query(sql));
    const count = (await rows()).length;
    await expect(work('SELECT audit_log_prune(0)')).rejects.toThrow(/at least 30/);
    // The floor is AUDIT_RETENTION_DAYS (30 here), kept where only the owner writes it.
    await expect(work('SELECT audit_log_prune(29)')).rejects.toThrow(/at least 30/);
    await expect(work('DELETE FROM audit_logs')).rejects.toThrow(/permission denied/);
    await expect(work('UPDATE audit_settings SET min_retention_days = 1')).rejects.toThrow(/permission denied/);
    expect((await rows()).length).toBe(count);
  });
});
