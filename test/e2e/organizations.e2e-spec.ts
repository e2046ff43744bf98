import { newId } from '@app/common';
import { AuditLog, OrganizationMember, RoleAssignment, TenantTransaction } from '@app/database';
import { PermissionResolver, SYSTEM_ROLES, type SystemRoleName } from '@app/rbac';
import { bearer, createTestApp, registerAndLogin, type TestApp } from '@app/testing';

const PROBLEM = /^application\/problem\+json/;

describe('organizations and RBAC enforcement', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function createOrg(token: string, name = 'Acme', slug?: string) {
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(token),
      payload: { name, slug },
    });
    expect(res.statusCode).toBe(201);
    return res.json<{ id: string; name: string; slug: string }>();
  }

  /** Adds a user to an organization with a system role, as the members API will (next slice). */
  async function addMember(orgId: string, userId: string, role: SystemRoleName) {
    await t.app.get(TenantTransaction).run(orgId, async (manager) => {
      await manager.insert(OrganizationMember, { id: newId(), organizationId: orgId, userId });
      await manager.insert(RoleAssignment, {
        id: newId(),
        organizationId: orgId,
        userId,
        roleId: SYSTEM_ROLES[role].id,
        teamId: null,
      });
    });
    await t.app.get(PermissionResolver).invalidate(orgId, userId);
  }

  it('creates an organization whose creator is its owner, and lists it', async () => {
    const owner = await registerAndLogin(t, 'org-owner');
    const org = await createOrg(owner.tokens.access_token, 'Ünïcode Örg!');
    expect(org.slug).toMatch(/^unicode-org-[0-9a-f]{6}$/);
    const list = await t.inject({
      method: 'GET',
      url: '/api/v1/organizations?page=1&pageSize=10',
      headers: bearer(owner.tokens.access_token),
    });
    expect(list.json()).toMatchObject({ total: 1, page: 1, pageSize: 10, items: [{ id: org.id }] });
    const get = await t.inject({
      method: 'GET',
      url: `/api/v1/organizations/${org.id}`,
      headers: bearer(owner.tokens.access_token),
    });
    expect(get.statusCode).toBe(200);
    const rows = await t.app
      .get(TenantTransaction)
      .run(org.id, (m) => m.find(AuditLog, { where: { organizationId: org.id } }));
    expect(rows.map((row) => row.action)).toContain('organization.create');
  });

  it('hides another tenant behind 404, for every verb', async () => {
    const alice = await registerAndLogin(t, 'org-alice');
    const mallory = await registerAndLogin(t, 'org-mallory');
    const org = await createOrg(alice.tokens.access_token);
    const url = `/api/v1/organizations/${org.id}`;
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const res = await t.inject({
        method,
        url,
        headers: bearer(mallory.tokens.access_token),
        payload: method === 'PUT' ? { name: 'pwned' } : undefined,
      });
      expect({ method, status: res.statusCode }).toEqual({ method, status: 404 });
    }
    // Same answer as an organization that does not exist at all.
    const ghost = await t.inject({
      method: 'GET',
      url: `/api/v1/organizations/${newId()}`,
      headers: bearer(mallory.tokens.access_token),
    });
    expect(ghost.statusCode).toBe(404);
    const list = await t.inject({
      method: 'GET',
      url: '/api/v1/organizations',
      headers: bearer(mallory.tokens.access_token),
    });
    expect(list.json()).toMatchObject({ total: 0, items: [] });
    expect((await t.inject({ method: 'GET', url, headers: bearer(alice.tokens.access_token) })).json()).toMatchObject({
      name: 'Acme',
    });
  });

  it('enforces each system role: viewer reads, admin updates, only the owner deletes', async () => {
    const owner = await registerAndLogin(t, 'role-owner');
    const admin = await registerAndLogin(t, 'role-admin');
    const viewer = await registerAndLogin(t, 'role-viewer');
    const org = await createOrg(owner.tokens.access_token);
    await addMember(org.id, admin.userId, 'admin');
    await addMember(org.id, viewer.userId, 'viewer');
    const url = `/api/v1/organizations/${org.id}`;
    expect((await t.inject({ method: 'GET', url, headers: bearer(viewer.tokens.access_token) })).statusCode).toBe(200);
    const viewerPut = await t.inject({
      method: 'PUT',
      url,
      headers: bearer(viewer.tokens.access_token),
      payload: { name: 'x' },
    });
    expect(viewerPut.statusCode).toBe(403);
    expect(viewerPut.headers['content-type']).toMatch(PROBLEM);
    expect(viewerPut.json()).toMatchObject({
      type: '/problems/permission-denied',
      missingPermissions: ['organizations:update'],
    });
    const adminPut = await t.inject({
      method: 'PUT',
      url,
      headers: bearer(admin.tokens.access_token),
      payload: { name: 'Renamed' },
    });
    expect(adminPut.statusCode).toBe(200);
    expect(adminPut.json()).toMatchObject({ name: 'Renamed' });
    expect((await t.inject({ method: 'DELETE', url, headers: bearer(admin.tokens.access_token) })).statusCode).toBe(
      403,
    );
    expect((await t.inject({ method: 'DELETE', url, headers: bearer(owner.tokens.access_token) })).statusCode).toBe(
      202,
    );
    // Scheduled: closed at once (the grace period and the purge are in organization-deletion.e2e-spec.ts).
    expect((await t.inject({ method: 'GET', url, headers: bearer(owner.tokens.access_token) })).statusCode).toBe(410);
    // The history outlives the organization.
    const audit = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { organizationId: org.id } }));
    expect(audit.map((row) => row.action)).toEqual(
      expect.arrayContaining(['organization.create', 'organization.update', 'organization.delete_scheduled']),
    );
  });

  it('stops honouring a removed role on the next request (cache invalidation)', async () => {
    const owner = await registerAndLogin(t, 'cache-owner');
    const member = await registerAndLogin(t, 'cache-member');
    const org = await createOrg(owner.tokens.access_token);
    await addMember(org.id, member.userId, 'admin');
    const url = `/api/v1/organizations/${org.id}`;
    expect(
      (await t.inject({ method: 'PUT', url, headers: bearer(member.tokens.access_token), payload: { name: 'A' } }))
        .statusCode,
    ).toBe(200);
    await t.app
      .get(TenantTransaction)
      .run(org.id, (m) => m.delete(OrganizationMember, { organizationId: org.id, userId: member.userId }));
    await t.app.get(PermissionResolver).invalidate(org.id, member.userId);
    expect(
      (await t.inject({ method: 'PUT', url, headers: bearer(member.tokens.access_token), payload: { name: 'B' } }))
        .statusCode,
    ).toBe(404);
  });

  it('validates input: slugs, names, ids, pages, unknown fields', async () => {
    const user = await registerAndLogin(t, 'org-validate');
    const headers = bearer(user.tokens.access_token);
    for (const payload of [
      { name: '' },
      { name: 'x', slug: 'Bad Slug' },
      { name: 'x', slug: '-x' },
      { name: 'x', ownerId: newId() },
      { name: 'a\u0000b' },
    ]) {
      const res = await t.inject({ method: 'POST', url: '/api/v1/organizations', headers, payload });
      expect({ payload, status: res.statusCode }).toEqual({ payload, status: 400 });
    }
    const taken = await createOrg(user.tokens.access_token, 'Taken', `taken-${Date.now().toString(36)}`);
    const dup = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers,
      payload: { name: 'Again', slug: taken.slug },
    });
    expect(dup.statusCode).toBe(409);
    expect((await t.inject({ method: 'GET', url: '/api/v1/organizations/not-a-uuid', headers })).statusCode).toBe(400);
    expect((await t.inject({ method: 'GET', url: '/api/v1/organizations?pageSize=1000', headers })).statusCode).toBe(
      400,
    );
  });

  it('publishes the permission catalogue', async () => {
    const user = await registerAndLogin(t, 'catalogue');
    const res = await t.inject({
      method: 'GET',
      url: '/api/v1/permissions',
      headers: bearer(user.tokens.access_token),
    });
    expect(res.statusCode).toBe(200);
    const keys = res.json<Array<{ key: string }>>().map((p) => p.key);
    expect(keys).toEqual(
      expect.arrayContaining(['organizations:read', 'teams:create', 'team-members:manage', 'llm:use']),
    );
    const [row] = await t.dataSource.query<Array<{ count: string }>>('SELECT count(*)::text AS count FROM permissions');
    expect(Number(row?.count)).toBe(keys.length);
  });
});
