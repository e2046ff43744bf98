import { AuditLog, Project, TenantTransaction } from '@app/database';
import { SYSTEM_ROLES } from '@app/rbac';
import { bearer, createTestApp, joinByInvitation, registerAndLogin, type TestApp } from '@app/testing';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
interface ProjectBody {
  id: string;
  organizationId: string;
  teamId: string | null;
  name: string;
  description: string | null;
  status: string;
  createdBy: string | null;
}
interface PageBody {
  items: ProjectBody[];
  total: number;
  page: number;
  pageSize: number;
}

/** The example resource, end to end: CRUD, validation, roles, team scope, tenants, audit. */
describe('projects (the example tenant-scoped module)', () => {
  let t: TestApp;
  let owner: Account;
  let orgId: string;
  let otherOrgId: string;
  let otherTeamId: string;
  let red: string;
  let blue: string;
  /** team-admin of red (viewer in the organization). */
  let redAdmin: Account;
  /** team-member of blue, with an organization role that carries no project permission. */
  let blueOnly: Account;

  const call = (as: Account | string, method: Method, path: string, payload?: object) =>
    t.inject({
      method,
      url: `/api/v1/organizations/${orgId}${path}`,
      headers: typeof as === 'string' ? { 'x-api-key': as } : bearer(as.tokens.access_token),
      payload,
    });
  const create = async (as: Account | string, payload: object) => {
    const res = await call(as, 'POST', '/projects', payload);
    expect(res.statusCode).toBe(201);
    return res.json<ProjectBody>();
  };
  const rowCount = () => t.app.get(TenantTransaction).runAsSystem((m) => m.countBy(Project, {}));

  async function join(label: string, orgRoleId: string, team?: { id: string; roleId: string }): Promise<Account> {
    const account = await registerAndLogin(t, label);
    await joinByInvitation(t, owner, orgId, account, [orgRoleId]);
    if (team) {
      const res = await call(owner, 'POST', `/teams/${team.id}/members`, {
        userId: account.userId,
        roleIds: [team.roleId],
      });
      expect(res.statusCode).toBe(201);
    }
    return account;
  }

  beforeAll(async () => {
    t = await createTestApp();
    owner = await registerAndLogin(t, 'p-owner');
    const org = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(owner.tokens.access_token),
      payload: { name: 'Projects Inc' },
    });
    orgId = org.json<{ id: string }>().id;
    red = (await call(owner, 'POST', '/teams', { name: 'Red' })).json<{ id: string }>().id;
    blue = (await call(owner, 'POST', '/teams', { name: 'Blue' })).json<{ id: string }>().id;
    const bare = await call(owner, 'POST', '/roles', { name: 'directory', scope: 'organization', permissions: [] });
    expect(bare.statusCode).toBe(201);
    redAdmin = await join('p-red-admin', SYSTEM_ROLES.viewer.id, { id: red, roleId: SYSTEM_ROLES['team-admin'].id });
    blueOnly = await join('p-blue', bare.json<{ id: string }>().id, {
      id: blue,
      roleId: SYSTEM_ROLES['team-member'].id,
    });
    const other = await registerAndLogin(t, 'p-other');
    const otherOrg = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(other.tokens.access_token),
      payload: { name: 'Elsewhere' },
    });
    otherOrgId = otherOrg.json<{ id: string }>().id;
    otherTeamId = (
      await t.inject({
        method: 'POST',
        url: `/api/v1/organizations/${otherOrgId}/teams`,
        headers: bearer(other.tokens.access_token),
        payload: { name: 'Theirs' },
      })
    ).json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates, reads, changes and deletes a project, auditing each change in the organization', async () => {
    const created = await create(owner, { name: 'Launch', description: 'Go live' });
    expect(created).toMatchObject({
      organizationId: orgId,
      teamId: null,
      name: 'Launch',
      description: 'Go live',
      status: 'active',
      createdBy: owner.userId,
    });
    expect((await call(owner, 'GET', `/projects/${created.id}`)).json()).toMatchObject({ id: created.id });
    const changed = await call(owner, 'PATCH', `/projects/${created.id}`, { status: 'archived', name: 'Launched' });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ name: 'Launched', status: 'archived', description: 'Go live' });
    expect((await call(owner, 'DELETE', `/projects/${created.id}`)).statusCode).toBe(204);
    expect((await call(owner, 'GET', `/projects/${created.id}`)).statusCode).toBe(404);

    const rows = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { targetId: created.id }, order: { chainSeq: 'ASC' } }));
    expect(rows.map((row) => [row.action, row.organizationId, row.actorId, row.targetType])).toEqual([
      ['project.create', orgId, owner.userId, 'project'],
      ['project.update', orgId, owner.userId, 'project'],
      ['project.delete', orgId, owner.userId, 'project'],
    ]);
    expect(rows[1]?.metadata).toEqual({ fields: ['name', 'status'] });
  });

  it('refuses bad input with problem+json naming the field, and writes nothing', async () => {
    const before = await rowCount();
    const cases: Array<[object, string]> = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ name: 'Ok', teamId: 'not-a-uuid' }, 'teamId'],
      [{ name: 'Ok', teamId: otherTeamId }, 'teamId'],
      [{ name: 'Ok', organizationId: otherOrgId }, 'organizationId'],
      [{ name: 'Ok', description: 42 }, 'description'],
    ];
    for (const [payload, field] of cases) {
      const res = await call(owner, 'POST', '/projects', payload);
      expect({ payload, status: res.statusCode, type: res.headers['content-type'] }).toEqual({
        payload,
        status: 400,
        type: expect.stringContaining('application/problem+json') as unknown,
      });
      expect(res.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field)).toContain(field);
    }
    const project = await create(owner, { name: 'Stable' });
    for (const payload of [{ name: null }, { status: 'deleted' }, { status: null }, { teamId: 'nope' }]) {
      const res = await call(owner, 'PATCH', `/projects/${project.id}`, payload);
      expect({ payload, status: res.statusCode }).toEqual({ payload, status: 400 });
    }
    for (const query of ['sort=password', 'pageSize=1000', 'page=0', 'page=1000001', 'teamId=1', 'status=gone', 'q=']) {
      expect({ query, status: (await call(owner, 'GET', `/projects?${query}`)).statusCode }).toEqual({
        query,
        status: 400,
      });
    }
    expect((await call(owner, 'GET', '/projects/not-a-uuid')).statusCode).toBe(400);
    expect((await call(owner, 'GET', `/projects/${project.id}`)).json()).toMatchObject({ name: 'Stable' });
    expect(await rowCount()).toBe(before + 1);
  });

  it('filters, sorts and pages', async () => {
    const tag = `f${Date.now()}`;
    await create(owner, { name: `${tag} beta`, teamId: red });
    await create(owner, { name: `${tag} alpha` });
    const gamma = await create(owner, { name: `${tag} 100%_gamma`, teamId: blue });
    await call(owner, 'PATCH', `/projects/${gamma.id}`, { status: 'archived' });
    const names = async (query: string) =>
      (await call(owner, 'GET', `/projects?q=${encodeURIComponent(tag)}&${query}`)).json<PageBody>();

    expect((await names('sort=name')).items.map((p) => p.name)).toEqual([
      `${tag} 100%_gamma`,
      `${tag} alpha`,
      `${tag} beta`,
    ]);
    expect((await names('sort=-name')).items.map((p) => p.name)[0]).toBe(`${tag} beta`);
    expect((await names(`teamId=${red}`)).items.map((p) => p.name)).toEqual([`${tag} beta`]);
    expect((await names('status=archived')).items.map((p) => p.name)).toEqual([`${tag} 100%_gamma`]);
    // % and _ are text, not wildcards.
    const literal = await call(owner, 'GET', `/projects?q=${encodeURIComponent('0%_g')}`);
    expect(literal.json<PageBody>().items.map((p) => p.id)).toEqual([gamma.id]);
    const first = await names('sort=name&pageSize=2&page=1');
    const second = await names('sort=name&pageSize=2&page=2');
    expect([first.total, first.items.length, second.items.length]).toEqual([3, 2, 1]);
    expect(second.total).toBe(3);
    expect(new Set([...first.items, ...second.items].map((p) => p.id)).size).toBe(3);
    // Past the last page: no rows, and still the real total (counted separately then).
    const beyond = await names('sort=name&pageSize=2&page=5');
    expect([beyond.total, beyond.items.length]).toEqual([3, 0]);
    // The total follows the filter, not the table.
    expect((await names(`teamId=${red}`)).total).toBe(1);
  });

  describe('team scope', () => {
    let redProject: ProjectBody;
    let blueProject: ProjectBody;
    let orgProject: ProjectBody;

    beforeAll(async () => {
      redProject = await create(owner, { name: 'Red plan', teamId: red });
      blueProject = await create(owner, { name: 'Blue plan', teamId: blue });
      orgProject = await create(owner, { name: 'Company plan' });
    });

    it("lets a team-admin manage their team's projects, and not others'", async () => {
      const own = await create(redAdmin, { name: 'Red side project', teamId: red });
      expect(own.createdBy).toBe(redAdmin.userId);
      expect((await call(redAdmin, 'PATCH', `/projects/${redProject.id}`, { description: 'ours' })).statusCode).toBe(
        200,
      );
      // Readable (viewer in the organization), not theirs to change.
      for (const id of [blueProject.id, orgProject.id]) {
        expect((await call(redAdmin, 'GET', `/projects/${id}`)).statusCode).toBe(200);
        const res = await call(redAdmin, 'PATCH', `/projects/${id}`, { description: 'taken over' });
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ missingPermissions: ['projects:update'] });
        expect((await call(redAdmin, 'DELETE', `/projects/${id}`)).statusCode).toBe(403);
      }
      expect((await call(redAdmin, 'POST', '/projects', { name: 'Into blue', teamId: blue })).statusCode).toBe(403);
      expect((await call(redAdmin, 'POST', '/projects', { name: 'Company-wide' })).statusCode).toBe(403);
      // Moving a project needs the permission in both teams.
      expect((await call(redAdmin, 'PATCH', `/projects/${own.id}`, { teamId: blue })).statusCode).toBe(403);
      expect((await call(redAdmin, 'PATCH', `/projects/${own.id}`, { teamId: null })).statusCode).toBe(403);
      expect((await call(owner, 'PATCH', `/projects/${own.id}`, { teamId: blue })).json()).toMatchObject({
        teamId: blue,
      });
      expect((await call(redAdmin, 'DELETE', `/projects/${redProject.id}`)).statusCode).toBe(204);
      expect((await call(owner, 'GET', `/projects/${blueProject.id}`)).json()).toMatchObject({ description: null });
    });

    it("shows someone who reads only in a team that team's projects, and nothing else exists for them", async () => {
      const list = await call(blueOnly, 'GET', '/projects?pageSize=100');
      expect(list.statusCode).toBe(200);
      const seen = list.json<PageBody>();
      expect(seen.items.length).toBeGreaterThan(0);
      expect(seen.items.every((p) => p.teamId === blue)).toBe(true);
      expect(seen.total).toBe(seen.items.length);
      expect(seen.items.map((p) => p.id)).toContain(blueProject.id);
      expect((await call(blueOnly, 'GET', `/projects?teamId=${red}`)).json<PageBody>().total).toBe(0);
      expect((await call(blueOnly, 'GET', `/projects/${orgProject.id}`)).statusCode).toBe(404);
      expect((await call(blueOnly, 'PATCH', `/projects/${orgProject.id}`, { name: 'x' })).statusCode).toBe(404);
      // team-member: works on the team's projects, may not create or delete them.
      expect((await call(blueOnly, 'PATCH', `/projects/${blueProject.id}`, { name: 'Blue plan v2' })).statusCode).toBe(
        200,
      );
      expect((await call(blueOnly, 'DELETE', `/projects/${blueProject.id}`)).statusCode).toBe(403);
      expect((await call(blueOnly, 'POST', '/projects', { name: 'Mine', teamId: blue })).statusCode).toBe(403);
    });

    it('deletes a team together with its projects', async () => {
      const doomed = (await call(owner, 'POST', '/teams', { name: 'Doomed' })).json<{ id: string }>().id;
      const project = await create(owner, { name: 'Doomed plan', teamId: doomed });
      expect((await call(owner, 'DELETE', `/teams/${doomed}`)).statusCode).toBe(204);
      expect((await call(owner, 'GET', `/projects/${project.id}`)).statusCode).toBe(404);
    });
  });

  it("never shows or touches another organization's projects", async () => {
    const mine = await create(owner, { name: 'Private' });
    const other = await registerAndLogin(t, 'p-intruder');
    const theirOrg = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/organizations',
        headers: bearer(other.tokens.access_token),
        payload: { name: 'Intruders' },
      })
    ).json<{ id: string }>().id;
    const as = (method: Method, org: string, path: string, payload?: object) =>
      t.inject({
        method,
        url: `/api/v1/organizations/${org}${path}`,
        headers: bearer(other.tokens.access_token),
        payload,
      });
    expect((await as('GET', orgId, '/projects')).statusCode).toBe(404);
    expect((await as('GET', theirOrg, `/projects/${mine.id}`)).statusCode).toBe(404);
    expect((await as('PATCH', theirOrg, `/projects/${mine.id}`, { name: 'Stolen' })).statusCode).toBe(404);
    expect((await as('DELETE', theirOrg, `/projects/${mine.id}`)).statusCode).toBe(404);
    expect((await as('GET', theirOrg, '/projects')).json<PageBody>().total).toBe(0);
    expect((await call(owner, 'GET', `/projects/${mine.id}`)).json()).toMatchObject({ name: 'Private' });
  });

  it('serves API keys within their permissions, audited as the key', async () => {
    const keyRes = await call(owner, 'POST', '/api-keys', {
      name: 'projects bot',
      permissions: ['projects:read', 'projects:create'],
    });
    expect(keyRes.statusCode).toBe(201);
    const { id: keyId, key } = keyRes.json<{ id: string; key: string }>();
    const made = await create(key, { name: 'Made by a bot', teamId: red });
    expect(made.createdBy).toBe(keyId);
    expect((await call(key, 'GET', `/projects/${made.id}`)).statusCode).toBe(200);
    expect((await call(key, 'PATCH', `/projects/${made.id}`, { name: 'x' })).statusCode).toBe(403);
    const [row] = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { action: 'project.create', targetId: made.id } }));
    expect(row).toMatchObject({ actorType: 'api_key', actorId: keyId, organizationId: orgId });
  });
});
