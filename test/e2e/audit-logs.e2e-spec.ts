import { AuditLog, TenantTransaction, User } from '@app/database';
import { PlatformAdmins, SYSTEM_ROLES } from '@app/rbac';
import { bearer, createTestApp, joinByInvitation, login, registerAndLogin, type TestApp } from '@app/testing';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
interface Page {
  items: Array<{
    id: string;
    action: string;
    chainSeq: number;
    outcome: string;
    actorId: string | null;
    userAgent: string | null;
  }>;
  nextCursor: string | null;
}

describe('audit log', () => {
  let t: TestApp;
  let owner: Account;
  let orgId: string;

  beforeAll(async () => {
    t = await createTestApp();
    owner = await registerAndLogin(t, 'audit-owner');
    orgId = (await call(owner, 'POST', '/organizations', { name: 'Audited' })).json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
  });

  function call(as: Account, method: Method, url: string, payload?: object, headers: Record<string, string> = {}) {
    return t.inject({
      method,
      url: `/api/v1${url}`,
      headers: { ...bearer(as.tokens.access_token), ...headers },
      payload,
    });
  }
  const logs = (query = '', as = owner, org = orgId) => call(as, 'GET', `/organizations/${org}/audit-logs${query}`);

  it('lists the organization’s events newest first, filters them, and pages with a cursor', async () => {
    for (const name of ['One', 'Two', 'Three'])
      expect((await call(owner, 'POST', `/organizations/${orgId}/teams`, { name })).statusCode).toBe(201);
    const all = (await logs()).json<Page>();
    expect(all.items.map((row) => row.action)).toEqual([
      'team.create',
      'team.create',
      'team.create',
      'organization.create',
    ]);
    expect(all.items.map((row) => row.chainSeq)).toEqual([4, 3, 2, 1]);
    expect((await logs('?action=team.*')).json<Page>().items).toHaveLength(3);
    expect((await logs(`?action=organization.create&actorId=${owner.userId}`)).json<Page>().items).toHaveLength(1);
    const first = (await logs('?limit=3')).json<Page>();
    expect(first.items).toHaveLength(3);
    const second = (await logs(`?limit=3&cursor=${first.nextCursor}`)).json<Page>();
    expect(second).toMatchObject({ items: [{ action: 'organization.create', chainSeq: 1 }], nextCursor: null });
    const bad = await logs('?cursor=bm9wZQ&outcome=maybe&from=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json<{ errors: Array<{ field: string }> }>()
        .errors.map((e) => e.field)
        .sort(),
    ).toEqual(['from', 'outcome']);
    expect((await logs('?cursor=bm9wZQ')).statusCode).toBe(400);
    // A chain position past PostgreSQL's bigint is refused by name, as any cursor it did not issue.
    for (const seq of ['9999999999999999999', '9223372036854775808']) {
      const beyond = await logs(`?cursor=${Buffer.from(`s:${seq}`).toString('base64url')}`);
      expect({ seq, status: beyond.statusCode }).toEqual({ seq, status: 400 });
      expect(beyond.json<{ errors?: Array<{ field: string }> }>().errors?.map((e) => e.field)).toEqual(['cursor']);
    }
  });

  it('writes no row for a change that rolled back, and a denied row for a refused attempt', async () => {
    const before = (await logs('?action=team.create')).json<Page>().items.length;
    await call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'Dup', slug: 'dup' });
    expect(
      (await call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'Dup again', slug: 'dup' })).statusCode,
    ).toBe(409);
    expect((await logs('?action=team.create')).json<Page>().items).toHaveLength(before + 1);

    const viewer = await registerAndLogin(t, 'audit-viewer');
    await joinByInvitation(t, owner, orgId, viewer, [SYSTEM_ROLES.viewer.id]);
    expect((await logs('', viewer)).statusCode).toBe(403);
    expect((await call(viewer, 'DELETE', `/organizations/${orgId}`)).statusCode).toBe(403);
    const denied = (await logs('?outcome=denied')).json<Page>().items;
    expect(denied.map((row) => [row.action, row.actorId])).toEqual([
      ['access.denied', viewer.userId],
      ['access.denied', viewer.userId],
    ]);
    const outsider = await registerAndLogin(t, 'audit-outsider');
    expect((await logs('', outsider)).statusCode).toBe(404);
  });

  it('verifies the chain, and finds an edited or a removed row', async () => {
    expect((await call(owner, 'GET', `/organizations/${orgId}/audit-logs/verify`)).json()).toMatchObject({
      valid: true,
      firstBroken: null,
    });
    const other = (await call(owner, 'POST', '/organizations', { name: 'Tampered' })).json<{ id: string }>().id;
    for (const name of ['A', 'B', 'C', 'D']) await call(owner, 'POST', `/organizations/${other}/teams`, { name });
    const verify = () => call(owner, 'GET', `/organizations/${other}/audit-logs/verify`).then((r) => r.json<object>());
    expect(await verify()).toMatchObject({ valid: true, checked: 5 });
    // The application's role cannot change history; an operator with a superuser connection can.
    await t.dataSource.query(
      `UPDATE audit_logs SET metadata = '{"name":"X"}' WHERE organization_id = $1 AND chain_seq = 3`,
      [other],
    );
    expect(await verify()).toMatchObject({ valid: false, firstBroken: { chainSeq: 3, reason: 'content-changed' } });
    const third = await t.dataSource.query<unknown[]>(
      `SELECT * FROM audit_logs WHERE organization_id = $1 AND chain_seq = 3`,
      [other],
    );
    expect(third).toHaveLength(1);
    // Removing an earlier row is found first: the chain breaks at the row after the gap.
    await t.dataSource.query(`DELETE FROM audit_logs WHERE organization_id = $1 AND chain_seq = 2`, [other]);
    expect(await verify()).toMatchObject({ valid: false, firstBroken: { chainSeq: 3 } });
  });

  it('keeps the chain consistent under concurrent writes', async () => {
    const org = (await call(owner, 'POST', '/organizations', { name: 'Busy' })).json<{ id: string }>().id;
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => call(owner, 'POST', `/organizations/${org}/teams`, { name: `T${i}` })),
    );
    expect(results.every((res) => res.statusCode === 201)).toBe(true);
    expect((await call(owner, 'GET', `/organizations/${org}/audit-logs/verify`)).json()).toMatchObject({
      valid: true,
      checked: 13,
    });
  });

  it('exports as NDJSON or CSV, in batches, with spreadsheet formulas defused', async () => {
    const org = (await call(owner, 'POST', '/organizations', { name: 'Exported' })).json<{ id: string }>().id;
    await call(
      owner,
      'POST',
      `/organizations/${org}/teams`,
      { name: 'Formula' },
      { 'user-agent': '=HYPERLINK("http://evil.test")' },
    );
    // Plenty of rows, written as the application would (through the chain trigger).
    await t.app.get(TenantTransaction).run(org, (manager) =>
      manager.query(
        `INSERT INTO audit_logs (id, organization_id, actor_type, action, outcome, metadata)
         SELECT gen_random_uuid(), $1, 'system', 'bulk.event', 'success', jsonb_build_object('n', n)
           FROM generate_series(1, 1200) AS n`,
        [org],
      ),
    );
    const ndjson = await call(owner, 'GET', `/organizations/${org}/audit-logs/export`);
    expect(ndjson.statusCode).toBe(200);
    expect(ndjson.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = ndjson.body.trim().split('\n');
    expect(lines).toHaveLength(1202);
    expect(lines.map((line) => (JSON.parse(line) as { chainSeq: number }).chainSeq)).toEqual(
      Array.from({ length: 1202 }, (_, i) => i + 1),
    );

    const csv = await call(owner, 'GET', `/organizations/${org}/audit-logs/export?format=csv&action=team.create`);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toContain('attachment');
    const [header, row] = csv.body.trim().split('\n');
    expect(header).toBe(
      'occurredAt,chainSeq,id,actorType,actorId,action,targetType,targetId,outcome,ip,userAgent,requestId,metadata,hash',
    );
    expect(row).toContain(`"'=HYPERLINK(""http://evil.test"")"`);
    expect((await call(owner, 'GET', `/organizations/${org}/audit-logs/export?format=xml`)).statusCode).toBe(400);
  });

  it("shows users their own security events, and platform admins everyone's", async () => {
    const sam = await registerAndLogin(t, 'audit-sam');
    expect((await login(t, sam.email, 'a-wrong-password-here')).statusCode).toBe(401);
    const events = (await call(sam, 'GET', '/users/me/security-events')).json<Page>();
    const actions = events.items.map((row) => `${row.action}:${row.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining(['auth.login:failure', 'auth.login:success', 'auth.register:success']),
    );
    expect(events.items.every((row) => row.actorId === sam.userId || row.actorId === null)).toBe(true);
    const ownersEvents = (await call(owner, 'GET', '/users/me/security-events')).json<Page>();
    expect(ownersEvents.items.map((row) => row.id)).not.toEqual(
      expect.arrayContaining(events.items.map((row) => row.id)),
    );

    expect((await call(sam, 'GET', '/admin/audit-logs')).statusCode).toBe(403);
    await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.update(User, { id: sam.userId }, { isPlatformAdmin: true }));
    // A change behind the api's back: tell the cache, as the CLI does.
    await t.app.get(PlatformAdmins).invalidate(sam.userId);
    const page1 = (await call(sam, 'GET', `/admin/audit-logs?organizationId=${orgId}&limit=2`)).json<Page>();
    expect(page1.items).toHaveLength(2);
    const page2 = (
      await call(sam, 'GET', `/admin/audit-logs?organizationId=${orgId}&limit=2&cursor=${page1.nextCursor}`)
    ).json<Page>();
    expect(page2.items.map((row) => row.id)).not.toEqual(expect.arrayContaining(page1.items.map((row) => row.id)));
    const everywhere = (await call(sam, 'GET', '/admin/audit-logs?limit=200')).json<Page>();
    expect(new Set(everywhere.items.map((row) => row.action)).has('auth.login')).toBe(true);
    const rows = await t.app.get(TenantTransaction).runAsSystem((m) => m.countBy(AuditLog, {}));
    expect(rows).toBeGreaterThan(200);
  });
});
