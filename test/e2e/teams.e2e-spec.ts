import { SYSTEM_ROLES } from '@app/rbac';
import { bearer, createTestApp, joinByInvitation, registerAndLogin, type TestApp } from '@app/testing';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;

describe('teams and team-scoped roles', () => {
  let t: TestApp;
  let owner: Account;
  let orgId: string;

  beforeAll(async () => {
    t = await createTestApp();
    owner = await registerAndLogin(t, 't-owner');
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(owner.tokens.access_token),
      payload: { name: 'Teams Inc' },
    });
    orgId = res.json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
  });

  const base = () => `/api/v1/organizations/${orgId}`;
  const call = (as: Account, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, payload?: object) =>
    t.inject({ method, url: `${base()}${path}`, headers: bearer(as.tokens.access_token), payload });

  async function joinOrg(label: string, roleId: string = SYSTEM_ROLES.member.id): Promise<Account> {
    const account = await registerAndLogin(t, label);
    await joinByInvitation(t, owner, orgId, account, [roleId]);
    return account;
  }

  async function createTeam(as: Account, name: string): Promise<string> {
    const res = await call(as, 'POST', '/teams', { name });
    expect(res.statusCode).toBe(201);
    return res.json<{ id: string }>().id;
  }

  it('lets a member create a team, becoming its team-admin', async () => {
    const mia = await joinOrg('t-mia');
    const teamId = await createTeam(mia, 'Platform');
    const members = await call(mia, 'GET', `/teams/${teamId}/members`);
    expect(members.json()).toEqual([
      expect.objectContaining({ userId: mia.userId, roles: [expect.objectContaining({ name: 'team-admin' })] }),
    ]);
    expect((await call(mia, 'PUT', `/teams/${teamId}`, { description: 'Runs the platform' })).statusCode).toBe(200);
    const list = await call(mia, 'GET', '/teams');
    expect(list.json()).toMatchObject({ total: 1 });
  });

  it('scopes team roles to their team: a team-admin of T manages T, not U', async () => {
    const lead = await joinOrg('t-lead', SYSTEM_ROLES.viewer.id);
    const worker = await joinOrg('t-worker', SYSTEM_ROLES.viewer.id);
    const teamT = await createTeam(owner, 'T');
    const teamU = await createTeam(owner, 'U');
    expect(
      (
        await call(owner, 'POST', `/teams/${teamT}/members`, {
          userId: lead.userId,
          roleIds: [SYSTEM_ROLES['team-admin'].id],
        })
      ).statusCode,
    ).toBe(201);
    // In T: the lead manages members and renames the team.
    expect((await call(lead, 'POST', `/teams/${teamT}/members`, { userId: worker.userId })).statusCode).toBe(201);
    expect((await call(lead, 'PUT', `/teams/${teamT}`, { name: 'T renamed' })).statusCode).toBe(200);
    // In U: nothing beyond the organization-wide viewer role.
    expect((await call(lead, 'PUT', `/teams/${teamU}`, { name: 'hijack' })).statusCode).toBe(403);
    expect((await call(lead, 'POST', `/teams/${teamU}/members`, { userId: worker.userId })).statusCode).toBe(403);
    // A team-admin cannot delete the team (not in the team-admin role) nor make others org admins.
    expect((await call(lead, 'DELETE', `/teams/${teamT}`)).statusCode).toBe(403);
    expect(
      (await call(lead, 'PUT', `/teams/${teamT}/members/${worker.userId}/roles`, { roleIds: [SYSTEM_ROLES.admin.id] }))
        .statusCode,
    ).toBe(400);
    // Promote within the team, then the worker leaves on their own.
    expect(
      (
        await call(lead, 'PUT', `/teams/${teamT}/members/${worker.userId}/roles`, {
          roleIds: [SYSTEM_ROLES['team-admin'].id],
        })
      ).statusCode,
    ).toBe(200);
    expect((await call(worker, 'DELETE', `/teams/${teamT}/members/${worker.userId}`)).statusCode).toBe(204);
    expect((await call(worker, 'PUT', `/teams/${teamT}`, { name: 'after leaving' })).statusCode).toBe(403);
  });

  it('only adds organization members to a team, once', async () => {
    const stranger = await registerAndLogin(t, 't-stranger');
    const teamId = await createTeam(owner, 'Closed');
    expect((await call(owner, 'POST', `/teams/${teamId}/members`, { userId: stranger.userId })).statusCode).toBe(404);
    const nia = await joinOrg('t-nia');
    expect((await call(owner, 'POST', `/teams/${teamId}/members`, { userId: nia.userId })).statusCode).toBe(201);
    expect((await call(owner, 'POST', `/teams/${teamId}/members`, { userId: nia.userId })).statusCode).toBe(409);
  });

  it('removing someone from the organization removes them from its teams', async () => {
    const ola = await joinOrg('t-ola');
    const teamId = await createTeam(owner, 'Leavers');
    await call(owner, 'POST', `/teams/${teamId}/members`, { userId: ola.userId });
    expect((await call(owner, 'DELETE', `/members/${ola.userId}`)).statusCode).toBe(204);
    const members = await call(owner, 'GET', `/teams/${teamId}/members`);
    expect(members.json<Array<{ userId: string }>>().map((m) => m.userId)).not.toContain(ola.userId);
  });

  it("hides another organization's teams, even by a valid team id", async () => {
    const other = await registerAndLogin(t, 't-other');
    const otherOrg = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/organizations',
        headers: bearer(other.tokens.access_token),
        payload: { name: 'Other' },
      })
    ).json<{ id: string }>().id;
    const mine = await createTeam(owner, 'Mine');
    // B's owner, in B's organization, asking for A's team: not found.
    const crossed = await t.inject({
      method: 'GET',
      url: `/api/v1/organizations/${otherOrg}/teams/${mine}`,
      headers: bearer(other.tokens.access_token),
    });
    expect(crossed.statusCode).toBe(404);
    const rename = await t.inject({
      method: 'PUT',
      url: `/api/v1/organizations/${otherOrg}/teams/${mine}`,
      headers: bearer(other.tokens.access_token),
      payload: { name: 'x' },
    });
    expect(rename.statusCode).toBe(404);
    // And directly in A's organization: not a member, so 404.
    expect((await call(other, 'GET', `/teams/${mine}`)).statusCode).toBe(404);
    expect((await call(owner, 'GET', `/teams/${mine}`)).json()).toMatchObject({ name: 'Mine' });
  });

  it('refuses null for a field that cannot be empty, and changes nothing', async () => {
    const teamId = await createTeam(owner, 'Nullable');
    for (const payload of [{ name: null }, { slug: null }]) {
      const res = await call(owner, 'PUT', `/teams/${teamId}`, payload);
      expect({ payload, status: res.statusCode }).toEqual({ payload, status: 400 });
    }
    expect((await call(owner, 'GET', `/teams/${teamId}`)).json()).toMatchObject({ name: 'Nullable' });
    // The same rule on the organization and on custom roles.
    for (const payload of [{ name: null }, { slug: null }]) {
      expect(
        (await t.inject({ method: 'PUT', url: base(), headers: bearer(owner.tokens.access_token), payload }))
          .statusCode,
      ).toBe(400);
    }
    const role = await call(owner, 'POST', '/roles', { name: 'nullable', scope: 'organization', permissions: [] });
    for (const payload of [{ name: null }, { permissions: null }]) {
      expect((await call(owner, 'PUT', `/roles/${role.json<{ id: string }>().id}`, payload)).statusCode).toBe(400);
    }
  });

  it('names the page when it is out of range, whatever its size; the last allowed page answers empty', async () => {
    await createTeam(owner, 'Paged');
    for (const page of ['1e20', '1000001', '0', 'x']) {
      const res = await call(owner, 'GET', `/teams?page=${page}`);
      expect({ page, status: res.statusCode }).toEqual({ page, status: 400 });
      const fields = res.json<{ errors: Array<{ field: string }> }>().errors.map((error) => error.field);
      expect(new Set(fields)).toEqual(new Set(['page']));
    }
    const last = await call(owner, 'GET', '/teams?page=1000000&pageSize=100');
    expect(last.statusCode).toBe(200);
    expect(last.json()).toMatchObject({ items: [], page: 1000000, pageSize: 100 });
    expect(last.json<{ total: number }>().total).toBeGreaterThan(0);
  });

  it('deletes a team with teams:delete', async () => {
    const teamId = await createTeam(owner, 'Doomed');
    expect((await call(owner, 'DELETE', `/teams/${teamId}`)).statusCode).toBe(204);
    expect((await call(owner, 'GET', `/teams/${teamId}`)).statusCode).toBe(404);
  });
});
