import { OrganizationPurgeProcessor } from '@app/jobs';
import { SYSTEM_ROLES } from '@app/rbac';
import { bearer, createTestApp, joinByInvitation, registerAndLogin, type TestApp, type Tokens } from '@app/testing';

interface Account {
  email: string;
  userId: string;
  tokens: Tokens;
}

describe('Deleting an organization, with a grace period', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { ORGANIZATION_DELETION_GRACE: '7d' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const call = (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    t.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });

  async function organization(owner: Account, member: Account) {
    const org = (await call(owner.tokens.access_token, 'POST', '/organizations', { name: 'Doomed' })).json<{
      id: string;
    }>().id;
    await joinByInvitation(t, owner, org, member, [SYSTEM_ROLES.admin.id]);
    const key = await call(owner.tokens.access_token, 'POST', `/organizations/${org}/api-keys`, {
      name: 'robot',
      permissions: ['teams:read'],
    });
    return { org, apiKey: key.json<{ key: string }>().key };
  }

  it('closes it at once, lets an owner restore it, and purges it once the grace period is over', async () => {
    const owner = await registerAndLogin(t, 'del-owner');
    const admin = await registerAndLogin(t, 'del-admin');
    const { org, apiKey } = await organization(owner, admin);

    // Admins cannot delete (owners only), and nothing changes.
    expect((await call(admin.tokens.access_token, 'DELETE', `/organizations/${org}`)).statusCode).toBe(403);
    const scim = await call(owner.tokens.access_token, 'POST', `/organizations/${org}/scim/tokens`, { name: 'idp' });
    const scimToken = scim.json<{ token: string }>().token;
    expect(
      (await t.inject({ method: 'GET', url: `/api/v1/organizations/${org}/scim/v2/Users`, headers: bearer(scimToken) }))
        .statusCode,
    ).toBe(200);
    const scheduled = await call(owner.tokens.access_token, 'DELETE', `/organizations/${org}`);
    expect(scheduled.statusCode).toBe(202);
    const when = new Date(scheduled.json<{ deletionScheduledFor: string }>().deletionScheduledFor).getTime();
    expect(when - Date.now()).toBeGreaterThan(6.9 * 86400_000);
    expect(when - Date.now()).toBeLessThanOrEqual(7 * 86400_000);

    // Closed to everyone and everything: members, the owner's other routes, API keys, GraphQL.
    for (const [who, method, url] of [
      [admin, 'GET', `/organizations/${org}/teams`],
      [owner, 'GET', `/organizations/${org}`],
      [owner, 'POST', `/organizations/${org}/teams`],
    ] as const) {
      const res = await call(who.tokens.access_token, method, url, method === 'POST' ? { name: 'x' } : undefined);
      expect({ url, status: res.statusCode }).toEqual({ url, status: 410 });
      expect(res.json()).toMatchObject({ type: '/problems/organization-deletion-scheduled' });
    }
    const byKey = await t.inject({
      method: 'GET',
      url: `/api/v1/organizations/${org}/teams`,
      headers: { 'x-api-key': apiKey },
    });
    expect(byKey.statusCode).toBe(410);
    const provisioning = await t.inject({
      method: 'GET',
      url: `/api/v1/organizations/${org}/scim/v2/Users`,
      headers: bearer(scimToken),
    });
    expect(provisioning.statusCode).toBe(410);
    const graphql = await t.inject({
      method: 'POST',
      url: '/graphql',
      headers: bearer(owner.tokens.access_token),
      payload: { query: `{ organization(orgId: "${org}") { name } }` },
    });
    expect(graphql.body).toMatch(/organization-deletion-scheduled|scheduled for deletion/);
    // The owner's list shows it, with the date.
    const list = await call(owner.tokens.access_token, 'GET', '/organizations');
    const listed = JSON.stringify(list.json());
    expect(listed).toContain(`"deletionScheduledFor":"${new Date(when).toISOString()}"`);

    // Only an owner restores.
    expect((await call(admin.tokens.access_token, 'POST', `/organizations/${org}/restore`)).statusCode).toBe(403);
    const restored = await call(owner.tokens.access_token, 'POST', `/organizations/${org}/restore`);
    expect(restored.statusCode).toBe(200);
    expect(restored.json()).toMatchObject({ id: org, deletionScheduledFor: null });
    expect((await call(admin.tokens.access_token, 'GET', `/organizations/${org}/teams`)).statusCode).toBe(200);
    expect((await call(owner.tokens.access_token, 'POST', `/organizations/${org}/restore`)).statusCode).toBe(409);

    // Not yet due: the purge leaves it.
    expect((await call(owner.tokens.access_token, 'DELETE', `/organizations/${org}`)).statusCode).toBe(202);
    await t.app.get(OrganizationPurgeProcessor).handle();
    expect(await t.dataSource.query('SELECT 1 FROM organizations WHERE id = $1', [org])).toHaveLength(1);
    // Due: purged, with its history kept.
    await t.dataSource.query(
      `UPDATE organizations SET deletion_scheduled_for = now() - interval '1 second' WHERE id = $1`,
      [org],
    );
    await t.app.get(OrganizationPurgeProcessor).handle();
    expect(await t.dataSource.query('SELECT 1 FROM organizations WHERE id = $1', [org])).toEqual([]);
    expect((await call(owner.tokens.access_token, 'GET', `/organizations/${org}`)).statusCode).toBe(404);
    const actions = await t.dataSource.query<Array<{ action: string }>>(
      `SELECT action FROM audit_logs WHERE organization_id = $1 ORDER BY chain_seq`,
      [org],
    );
    expect(actions.map((row) => row.action)).toEqual(
      expect.arrayContaining(['organization.delete_scheduled', 'organization.restore', 'organization.delete']),
    );
  });
});
