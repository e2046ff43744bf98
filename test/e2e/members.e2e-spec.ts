import { SYSTEM_ROLES } from '@app/rbac';
import { AuditLog, openUnitOfWorkSql, OrganizationMember, TeamMember, TenantTransaction } from '@app/database';
import {
  bearer,
  createTestApp,
  joinByInvitation,
  recordStatements,
  registerAndLogin,
  setPlatformAdmin,
  startSmtpSink,
  type SmtpSink,
  type TestApp,
} from '@app/testing';

import { MEMBER_PAGE_SQL, TEAM_MEMBERS_SQL } from '../../apps/api/src/members/member-page-sql';
import { TEAM_SQL } from '../../apps/api/src/teams/team-page-sql';
import { describeMembers } from '../../apps/api/src/members/member-view';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;

describe('organization members', () => {
  let t: TestApp;
  let smtp: SmtpSink;
  let owner: Account;
  let orgId: string;
  /** Everyone the owner adds directly first joined this organization by invitation (consent). */
  let lobbyId: string;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: smtp.url } });
    owner = await registerAndLogin(t, 'm-owner');
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(owner.tokens.access_token),
      payload: { name: 'Members Inc' },
    });
    orgId = res.json<{ id: string }>().id;
    const lobby = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(owner.tokens.access_token),
      payload: { name: 'Lobby' },
    });
    lobbyId = lobby.json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const acquaintance = async (label: string) => {
    const account = await registerAndLogin(t, label);
    await joinByInvitation(t, owner, lobbyId, account);
    return account;
  };
  const url = (suffix = '') => `/api/v1/organizations/${orgId}/members${suffix}`;
  const add = (as: Account, userId: string, roleIds?: string[]) =>
    t.inject({ method: 'POST', url: url(), headers: bearer(as.tokens.access_token), payload: { userId, roleIds } });
  const setRoles = (as: Account, userId: string, roleIds: string[]) =>
    t.inject({
      method: 'PUT',
      url: url(`/${userId}/roles`),
      headers: bearer(as.tokens.access_token),
      payload: { roleIds },
    });

  it('adds a member with the default role and lists members with their roles', async () => {
    const ann = await acquaintance('m-ann');
    const res = await add(owner, ann.userId);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      userId: ann.userId,
      email: ann.email,
      roles: [{ name: 'member', isSystem: true }],
    });
    const list = await t.inject({ method: 'GET', url: url(), headers: bearer(ann.tokens.access_token) });
    expect(list.statusCode).toBe(200);
    const body = list.json<{ total: number; items: Array<{ userId: string; roles: Array<{ name: string }> }> }>();
    expect(body.total).toBe(2);
    expect(body.items.find((m) => m.userId === owner.userId)?.roles.map((r) => r.name)).toEqual(['owner']);
    expect((await add(owner, ann.userId)).statusCode).toBe(409);
  });

  it('refuses escalation: an admin cannot make an owner, nor grant what it lacks', async () => {
    const admin = await acquaintance('m-admin');
    const bob = await acquaintance('m-bob');
    expect((await add(owner, admin.userId, [SYSTEM_ROLES.admin.id])).statusCode).toBe(201);
    const escalate = await add(admin, bob.userId, [SYSTEM_ROLES.owner.id]);
    expect(escalate.statusCode).toBe(403);
    expect(escalate.json()).toMatchObject({ missingPermissions: ['organizations:delete'] });
    expect((await add(admin, bob.userId, [SYSTEM_ROLES.admin.id])).statusCode).toBe(201);
    // An admin cannot demote the owner either.
    expect((await setRoles(admin, owner.userId, [SYSTEM_ROLES.member.id])).statusCode).toBe(403);
    // Nor remove them.
    const removeOwner = await t.inject({
      method: 'DELETE',
      url: url(`/${owner.userId}`),
      headers: bearer(admin.tokens.access_token),
    });
    expect(removeOwner.statusCode).toBe(403);
  });

  it('refuses team roles and unknown roles as organization roles', async () => {
    const carl = await acquaintance('m-carl');
    const team = await add(owner, carl.userId, [SYSTEM_ROLES['team-admin'].id]);
    expect(team.statusCode).toBe(400);
    const unknown = await add(owner, carl.userId, ['0195d2a0-7b1c-7c3e-8a4b-1234567890ab']);
    expect(unknown.statusCode).toBe(400);
    expect((await add(owner, '0195d2a0-7b1c-7c3e-8a4b-1234567890ab')).statusCode).toBe(404);
    expect((await add(owner, 'nope')).statusCode).toBe(400);
  });

  it('keeps the last owner: no leaving, no demotion, until another owner exists', async () => {
    const dana = await acquaintance('m-dana');
    const leave = await t.inject({
      method: 'DELETE',
      url: url(`/${owner.userId}`),
      headers: bearer(owner.tokens.access_token),
    });
    expect(leave.statusCode).toBe(409);
    expect(leave.json()).toMatchObject({ type: '/problems/last-owner' });
    expect((await setRoles(owner, owner.userId, [SYSTEM_ROLES.admin.id])).statusCode).toBe(409);
    expect((await add(owner, dana.userId, [SYSTEM_ROLES.owner.id])).statusCode).toBe(201);
    expect((await setRoles(owner, owner.userId, [SYSTEM_ROLES.admin.id])).statusCode).toBe(200);
    // Dana is now the last owner.
    const danaLeaves = await t.inject({
      method: 'DELETE',
      url: url(`/${dana.userId}`),
      headers: bearer(dana.tokens.access_token),
    });
    expect(danaLeaves.statusCode).toBe(409);
    expect((await setRoles(dana, owner.userId, [SYSTEM_ROLES.owner.id])).statusCode).toBe(200);
  });

  it('lets a plain member leave but not remove others; a removed member loses access at once', async () => {
    const eve = await acquaintance('m-eve');
    const fay = await acquaintance('m-fay');
    await add(owner, eve.userId);
    await add(owner, fay.userId);
    const kick = await t.inject({
      method: 'DELETE',
      url: url(`/${fay.userId}`),
      headers: bearer(eve.tokens.access_token),
    });
    expect(kick.statusCode).toBe(403);
    const leave = await t.inject({
      method: 'DELETE',
      url: url(`/${eve.userId}`),
      headers: bearer(eve.tokens.access_token),
    });
    expect(leave.statusCode).toBe(204);
    expect((await t.inject({ method: 'GET', url: url(), headers: bearer(eve.tokens.access_token) })).statusCode).toBe(
      404,
    );
    // The seed's body form.
    const byBody = await t.inject({
      method: 'DELETE',
      url: url(),
      headers: bearer(owner.tokens.access_token),
      payload: { userId: fay.userId },
    });
    expect(byBody.statusCode).toBe(204);
    expect(
      (
        await t.inject({
          method: 'GET',
          url: `/api/v1/organizations/${orgId}`,
          headers: bearer(fay.tokens.access_token),
        })
      ).statusCode,
    ).toBe(404);
  });

  it('lists a page in one statement: the account fields shown, never a credential column; roles in grant order', async () => {
    const two = await acquaintance('m-two-roles');
    expect((await add(owner, two.userId, [SYSTEM_ROLES.viewer.id, SYSTEM_ROLES.admin.id])).statusCode).toBe(201);
    const get = (query: string, requestId?: string) =>
      t.inject({
        method: 'GET',
        url: url(query),
        headers: { ...bearer(owner.tokens.access_token), ...(requestId ? { 'x-request-id': requestId } : {}) },
      });
    expect((await get('')).statusCode).toBe(200);
    const requestId = `members-${Math.random().toString(36).slice(2)}`;
    let listed: Awaited<ReturnType<typeof get>> | undefined;
    const statements = await recordStatements(t.dataSource, async () => (listed = await get('', requestId)), requestId);
    expect(statements).toEqual([
      openUnitOfWorkSql({ organizationId: orgId, system: false }),
      MEMBER_PAGE_SQL,
      'COMMIT',
    ]);
    const body = listed!.json<{ items: Array<Record<string, unknown>>; total: number }>();
    // The same members, fields and roles as the per-member description (GET …/members/:userId) gives.
    const described = await t.app.get(TenantTransaction).run(orgId, async (manager) => {
      const members = await manager.find(OrganizationMember, {
        where: { organizationId: orgId },
        order: { createdAt: 'ASC', id: 'ASC' },
      });
      return describeMembers(manager, orgId, null, members);
    });
    expect(body.total).toBe(described.length);
    const sortedRoles = (items: Array<Record<string, unknown>>) =>
      items.map((item) => ({
        ...item,
        roles: [...(item.roles as Array<{ id: string }>)].sort((a, b) => a.id.localeCompare(b.id)),
      }));
    expect(sortedRoles(body.items)).toEqual(
      sortedRoles(JSON.parse(JSON.stringify(described)) as Array<Record<string, unknown>>),
    );
    expect(body.items.find((item) => item.userId === two.userId)).toEqual({
      userId: two.userId,
      email: two.email,
      fullName: null,
      joinedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      roles: [
        { id: SYSTEM_ROLES.viewer.id, name: 'viewer', isSystem: true },
        { id: SYSTEM_ROLES.admin.id, name: 'admin', isSystem: true },
      ],
    });
    // Paged: the second of two-member pages, and a page past the end with its total.
    const firstTwo = (await get('?pageSize=2')).json<{ items: Array<{ userId: string }> }>().items;
    const nextTwo = (await get('?pageSize=2&page=2')).json<{ items: Array<{ userId: string }> }>().items;
    expect([...firstTwo, ...nextTwo].map((item) => item.userId)).toEqual(
      body.items.slice(0, 4).map((item) => item.userId),
    );
    expect((await get('?page=100')).json()).toEqual({ items: [], total: body.total, page: 100, pageSize: 20 });
  });

  it("lists a team's members in one statement after the team check, with their team roles", async () => {
    const teamRes = await t.inject({
      method: 'POST',
      url: `/api/v1/organizations/${orgId}/teams`,
      headers: bearer(owner.tokens.access_token),
      payload: { name: 'Listed' },
    });
    const teamId = teamRes.json<{ id: string }>().id;
    const worker = await acquaintance('m-team-worker');
    expect((await add(owner, worker.userId)).statusCode).toBe(201);
    const joined = await t.inject({
      method: 'POST',
      url: `/api/v1/organizations/${orgId}/teams/${teamId}/members`,
      headers: bearer(owner.tokens.access_token),
      payload: { userId: worker.userId, roleIds: [SYSTEM_ROLES['team-member'].id, SYSTEM_ROLES['team-admin'].id] },
    });
    expect(joined.statusCode).toBe(201);
    const membersUrl = `/api/v1/organizations/${orgId}/teams/${teamId}/members`;
    const get = (requestId?: string) =>
      t.inject({
        method: 'GET',
        url: membersUrl,
        headers: { ...bearer(owner.tokens.access_token), ...(requestId ? { 'x-request-id': requestId } : {}) },
      });
    expect((await get()).statusCode).toBe(200);
    const requestId = `team-members-${Math.random().toString(36).slice(2)}`;
    let listed: Awaited<ReturnType<typeof get>> | undefined;
    const statements = await recordStatements(t.dataSource, async () => (listed = await get(requestId)), requestId);
    expect(statements).toEqual([
      openUnitOfWorkSql({ organizationId: orgId, system: false }),
      TEAM_SQL,
      TEAM_MEMBERS_SQL,
      'COMMIT',
    ]);
    const body = listed!.json<Array<Record<string, unknown>>>();
    const described = await t.app.get(TenantTransaction).run(orgId, async (manager) => {
      const members = await manager.find(TeamMember, { where: { teamId }, order: { createdAt: 'ASC', id: 'ASC' } });
      return describeMembers(manager, orgId, teamId, members);
    });
    expect(body).toEqual(JSON.parse(JSON.stringify(described)));
    // The team's creator (team-admin) and the worker, in the order they joined, team roles in grant order.
    expect(body.map((member) => [member.userId, (member.roles as Array<{ name: string }>).map((r) => r.name)])).toEqual(
      [
        [owner.userId, ['team-admin']],
        [worker.userId, ['team-member', 'team-admin']],
      ],
    );
    // Another organization's team, asked for under this one: 404, not an empty list.
    const elsewhere = await t.inject({
      method: 'POST',
      url: `/api/v1/organizations/${lobbyId}/teams`,
      headers: bearer(owner.tokens.access_token),
      payload: { name: 'Lobby team' },
    });
    const theirs = await t.inject({
      method: 'GET',
      url: `/api/v1/organizations/${orgId}/teams/${elsewhere.json<{ id: string }>().id}/members`,
      headers: bearer(owner.tokens.access_token),
    });
    expect(theirs.statusCode).toBe(404);
  });

  it("hides the members of another tenant's organization", async () => {
    const outsider = await registerAndLogin(t, 'm-outsider');
    for (const [method, path] of [
      ['GET', ''],
      ['POST', ''],
      ['DELETE', `/${owner.userId}`],
      ['PUT', `/${owner.userId}/roles`],
    ] as const) {
      const res = await t.inject({
        method,
        url: url(path),
        headers: bearer(outsider.tokens.access_token),
        payload: method === 'GET' ? undefined : { userId: outsider.userId, roleIds: [SYSTEM_ROLES.owner.id] },
      });
      expect({ method, path, status: res.statusCode }).toEqual({ method, path, status: 404 });
    }
  });

  describe('consent: who can be added without an invitation', () => {
    const problem = (res: { json: <T>() => T }) => {
      const { instance: _instance, ...rest } = res.json<Record<string, unknown>>();
      return rest;
    };
    const memberIds = async () =>
      (await t.inject({ method: 'GET', url: url('?pageSize=100'), headers: bearer(owner.tokens.access_token) }))
        .json<{ items: Array<{ userId: string }> }>()
        .items.map((m) => m.userId);

    it('refuses a stranger exactly as an unknown id, and adds nothing', async () => {
      const stranger = await registerAndLogin(t, 'm-stranger');
      const refused = await add(owner, stranger.userId);
      expect(refused.statusCode).toBe(404);
      expect(refused.json()).toMatchObject({ type: '/problems/invitation-required' });
      const unknown = await add(owner, '01900000-0000-7000-8000-000000000000');
      expect(problem(unknown)).toEqual(problem(refused));
      expect(await memberIds()).not.toContain(stranger.userId);
      // The refused person is still one invitation away.
      await joinByInvitation(t, owner, orgId, stranger);
      expect(await memberIds()).toContain(stranger.userId);
    });

    it('never adds a platform admin directly, even one who shares an organization', async () => {
      const operator = await acquaintance('m-operator');
      await setPlatformAdmin(t, operator.userId);
      const refused = await add(owner, operator.userId);
      expect(refused.statusCode).toBe(404);
      expect(refused.json()).toMatchObject({ type: '/problems/invitation-required' });
      expect(await memberIds()).not.toContain(operator.userId);
    });

    it('lets a platform admin who manages the organization add anyone, and says so in the audit row', async () => {
      const operator = await registerAndLogin(t, 'm-op-admin');
      await joinByInvitation(t, owner, orgId, operator, [SYSTEM_ROLES.admin.id]);
      await setPlatformAdmin(t, operator.userId);
      const newcomer = await registerAndLogin(t, 'm-newcomer');
      const res = await add(operator, newcomer.userId);
      expect(res.statusCode).toBe(201);
      const [row] = await t.app
        .get(TenantTransaction)
        .runAsSystem((m) => m.find(AuditLog, { where: { action: 'member.add', targetId: newcomer.userId } }));
      expect(row?.metadata).toMatchObject({ via: 'platform-admin' });
    });

    it('tells the added person by mail, with no user-chosen text in the subject', async () => {
      const mate = await acquaintance('m-mate');
      expect((await add(owner, mate.userId)).statusCode).toBe(201);
      const [row] = await t.app
        .get(TenantTransaction)
        .runAsSystem((m) =>
          m.find(AuditLog, { where: { action: 'member.add', targetId: mate.userId, organizationId: orgId } }),
        );
      expect(row?.metadata).toMatchObject({ via: 'shared-organization' });
      const mail = await smtp.waitFor((m) => m.to.includes(mate.email) && /added to an organization/.test(m.subject));
      expect(mail.subject).not.toContain('Members Inc');
      expect(mail.text).toContain('"Members Inc"');
    });
  });
});
