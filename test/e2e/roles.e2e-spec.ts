import { SYSTEM_ROLES } from '@app/rbac';
import { bearer, createTestApp, joinByInvitation, registerAndLogin, type TestApp } from '@app/testing';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;

describe('custom roles', () => {
  let t: TestApp;
  let owner: Account;
  let admin: Account;
  let orgId: string;

  beforeAll(async () => {
    t = await createTestApp();
    owner = await registerAndLogin(t, 'r-owner');
    admin = await registerAndLogin(t, 'r-admin');
    orgId = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/organizations',
        headers: bearer(owner.tokens.access_token),
        payload: { name: 'Roles Inc' },
      })
    ).json<{ id: string }>().id;
    await joinByInvitation(t, owner, orgId, admin, [SYSTEM_ROLES.admin.id]);
  });
  afterAll(async () => {
    await t.close();
  });

  function call(as: Account, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, payload?: object) {
    return t.inject({
      method,
      url: `/api/v1/organizations/${orgId}${path}`,
      headers: bearer(as.tokens.access_token),
      payload,
    });
  }

  it('creates a role, assigns it, and its permissions take effect (and only those)', async () => {
    const created = await call(owner, 'POST', '/roles', {
      name: 'auditor',
      scope: 'organization',
      permissions: ['organizations:read', 'audit-logs:read'],
    });
    expect(created.statusCode).toBe(201);
    const role = created.json<{ id: string; permissions: string[]; isSystem: boolean }>();
    expect(role).toMatchObject({ isSystem: false, permissions: ['audit-logs:read', 'organizations:read'] });
    const ivy = await registerAndLogin(t, 'r-ivy');
    await joinByInvitation(t, owner, orgId, ivy, [role.id]);
    expect((await call(ivy, 'GET', '')).statusCode).toBe(200);
    expect((await call(ivy, 'GET', '/members')).statusCode).toBe(403);
    // Widening the role takes effect on the next request.
    expect(
      (
        await call(owner, 'PUT', `/roles/${role.id}`, {
          permissions: ['organizations:read', 'audit-logs:read', 'members:read'],
        })
      ).statusCode,
    ).toBe(200);
    expect((await call(ivy, 'GET', '/members')).statusCode).toBe(200);
    // Still assigned: cannot be deleted.
    const inUse = await call(owner, 'DELETE', `/roles/${role.id}`);
    expect(inUse.statusCode).toBe(409);
    expect(inUse.json()).toMatchObject({ type: '/problems/role-in-use', assignments: 1 });
    await call(owner, 'PUT', `/members/${ivy.userId}/roles`, { roleIds: [SYSTEM_ROLES.viewer.id] });
    expect((await call(owner, 'DELETE', `/roles/${role.id}`)).statusCode).toBe(204);
    expect((await call(owner, 'GET', `/roles/${role.id}`)).statusCode).toBe(404);
  });

  it('refuses escalation through roles', async () => {
    const res = await call(admin, 'POST', '/roles', {
      name: 'deleter',
      scope: 'organization',
      permissions: ['organizations:delete'],
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ missingPermissions: ['organizations:delete'] });
    const ok = await call(admin, 'POST', '/roles', {
      name: 'support',
      scope: 'organization',
      permissions: ['members:read'],
    });
    expect(ok.statusCode).toBe(201);
    const widen = await call(admin, 'PUT', `/roles/${ok.json<{ id: string }>().id}`, {
      permissions: ['members:read', 'organizations:delete'],
    });
    expect(widen.statusCode).toBe(403);
  });

  it('validates permissions against the catalogue and the scope, and names', async () => {
    const cases = [
      { name: 'x1', scope: 'organization', permissions: ['not:a-permission'] },
      { name: 'x2', scope: 'team', permissions: ['members:invite'] },
      { name: 'x3', scope: 'galaxy', permissions: [] },
      { name: '', scope: 'organization', permissions: [] },
    ];
    for (const payload of cases) {
      const res = await call(owner, 'POST', '/roles', payload);
      expect({ payload, status: res.statusCode }).toEqual({ payload, status: 400 });
    }
    expect(
      (await call(owner, 'POST', '/roles', { name: 'Owner', scope: 'organization', permissions: [] })).statusCode,
    ).toBe(409);
    expect(
      (await call(owner, 'POST', '/roles', { name: 'dup', scope: 'organization', permissions: [] })).statusCode,
    ).toBe(201);
    expect(
      (await call(owner, 'POST', '/roles', { name: 'DUP', scope: 'organization', permissions: [] })).statusCode,
    ).toBe(409);
  });

  it('never changes system roles', async () => {
    expect((await call(owner, 'PUT', `/roles/${SYSTEM_ROLES.viewer.id}`, { permissions: [] })).statusCode).toBe(409);
    expect((await call(owner, 'DELETE', `/roles/${SYSTEM_ROLES.member.id}`)).statusCode).toBe(409);
    const list = await call(owner, 'GET', '/roles');
    expect(list.json<Array<{ name: string }>>().map((r) => r.name)).toEqual(
      expect.arrayContaining(['owner', 'admin', 'member', 'viewer', 'team-admin', 'team-member']),
    );
  });

  it("keeps one organization's custom roles out of another's reach", async () => {
    const other = await registerAndLogin(t, 'r-other');
    const otherOrg = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/organizations',
        headers: bearer(other.tokens.access_token),
        payload: { name: 'Other' },
      })
    ).json<{ id: string }>().id;
    const foreign = (
      await t.inject({
        method: 'POST',
        url: `/api/v1/organizations/${otherOrg}/roles`,
        headers: bearer(other.tokens.access_token),
        payload: { name: 'foreign', scope: 'organization', permissions: ['organizations:read'] },
      })
    ).json<{ id: string }>().id;
    // Invisible in A, and unusable for assignments in A.
    expect((await call(owner, 'GET', `/roles/${foreign}`)).statusCode).toBe(404);
    const ivo = await registerAndLogin(t, 'r-ivo');
    expect((await call(owner, 'POST', '/members', { userId: ivo.userId, roleIds: [foreign] })).statusCode).toBe(400);
    // And B cannot touch A's roles through B's organization.
    const mine = (await call(owner, 'POST', '/roles', { name: 'mine', scope: 'organization', permissions: [] })).json<{
      id: string;
    }>().id;
    const hijack = await t.inject({
      method: 'PUT',
      url: `/api/v1/organizations/${otherOrg}/roles/${mine}`,
      headers: bearer(other.tokens.access_token),
      payload: { name: 'hijacked' },
    });
    expect(hijack.statusCode).toBe(404);
  });
});
