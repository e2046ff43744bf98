import { newId } from '@app/common';
import { AuditLog, TenantTransaction, User } from '@app/database';
import { SYSTEM_ROLES } from '@app/rbac';
import {
  bearer,
  createTestApp,
  joinByInvitation,
  login,
  registerAndLogin,
  type TestApp,
  type Tokens,
} from '@app/testing';
import type { EntityManager } from 'typeorm';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface ScimResponse {
  statusCode: number;
  headers: Record<string, unknown>;
  json<T = Record<string, unknown>>(): T;
  body: string;
}
interface GroupResource {
  id: string;
  displayName: string;
  externalId?: string;
  members?: Array<{ value: string; display: string; $ref: string }>;
  meta: { version: string; location: string };
}

const DOMAIN = 'groups-scim.example';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PASSWORD = 'A-strong-password-for-groups-42';

/**
 * SCIM Groups as teams, driven with the request shapes Okta and Entra ID publish for group push
 * and group provisioning, through the real api.
 */
describe('directory sync (SCIM 2.0): Groups', () => {
  let t: TestApp;
  let owner: Account;
  let orgId: string;
  let token: string;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { APP_URL: 'http://scim.test' } });
    owner = await registerAndLogin(t, 'groups-owner');
    orgId = (await call(owner, 'POST', '/organizations', { name: 'Groups Inc' })).json<{ id: string }>().id;
    const domain = (await call(owner, 'POST', `/organizations/${orgId}/domains`, { domain: DOMAIN })).json<{
      id: string;
    }>();
    // The DNS proof has its own tests (scim.e2e, sso.e2e): mark the domain verified directly.
    await system((m) => m.query('UPDATE organization_domains SET verified_at = now() WHERE id = $1', [domain.id]));
    token = (await call(owner, 'POST', `/organizations/${orgId}/scim/tokens`, { name: 'IdP' })).json<{
      token: string;
    }>().token;
    base = `/api/v1/organizations/${orgId}/scim/v2`;
  });
  afterAll(async () => {
    await t?.close();
  });

  function call(as: Account, method: Method, url: string, payload?: object) {
    return t.inject({ method, url: `/api/v1${url}`, headers: bearer(as.tokens.access_token), payload });
  }
  async function scim(
    method: Method,
    path: string,
    payload?: object,
    headers: Record<string, string> = {},
    credential = token,
    root = base,
  ): Promise<ScimResponse> {
    return t.inject({
      method,
      url: `${root}${path}`,
      headers: {
        authorization: `Bearer ${credential}`,
        accept: 'application/scim+json',
        ...(payload ? { 'content-type': 'application/scim+json; charset=utf-8' } : {}),
        ...headers,
      },
      ...(payload ? { payload: JSON.stringify(payload) } : {}),
    });
  }
  function system<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return t.app.get(TenantTransaction).runAsSystem(work);
  }
  const expectScimError = (res: ScimResponse, status: number, scimType?: string) => {
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toContain('application/scim+json');
    expect(res.json()).toMatchObject({ schemas: [ERROR], status: String(status), ...(scimType ? { scimType } : {}) });
    expect(res.body).not.toMatch(/\n\s+at |node_modules|SELECT /);
  };
  /** A SCIM User, provisioned the way the IdP does it. */
  async function provision(local: string): Promise<{ id: string; email: string }> {
    const email = `${local}@${DOMAIN}`;
    const res = await scim('POST', '/Users', {
      schemas: [USER],
      userName: email,
      displayName: local,
      emails: [{ value: email, primary: true }],
    });
    expect(res.statusCode).toBe(201);
    return { id: res.json<{ id: string }>().id, email };
  }
  async function teamMembers(teamId: string): Promise<string[]> {
    const rows = await system((m) =>
      m.query<Array<{ email: string }>>(
        'SELECT u.email FROM team_members tm JOIN users u ON u.id = tm.user_id WHERE tm.team_id = $1 ORDER BY u.email',
        [teamId],
      ),
    );
    return rows.map((row) => row.email);
  }
  async function teamOf(groupId: string): Promise<{ id: string; name: string } | undefined> {
    const rows = await system((m) =>
      m.query<Array<{ id: string; name: string }>>(
        'SELECT t.id, t.name FROM scim_groups g JOIN teams t ON t.id = g.team_id WHERE g.id = $1',
        [groupId],
      ),
    );
    return rows[0];
  }
  async function orgRoles(email: string): Promise<string[]> {
    const rows = await system((m) =>
      m.query<Array<{ role_id: string }>>(
        `SELECT ra.role_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id
          WHERE ra.organization_id = $1 AND ra.team_id IS NULL AND u.email = $2 ORDER BY ra.role_id`,
        [orgId, email],
      ),
    );
    return rows.map((row) => row.role_id);
  }
  async function signIn(email: string): Promise<Tokens> {
    const { PasswordHasher } = await import('@app/auth');
    const hash = await t.app.get(PasswordHasher).hash(PASSWORD);
    await system((m) => m.update(User, { email }, { passwordHash: hash }));
    const res = await login(t, email, PASSWORD);
    expect(res.statusCode).toBe(200);
    return res.json<Tokens>();
  }

  it('follows Okta group push: create with members, add, remove by value filter, rename, PUT, DELETE', async () => {
    const [ann, ben, cai] = [await provision('ann'), await provision('ben'), await provision('cai')];
    // Okta looks the group up by name first.
    const lookup = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Engineering"')}`);
    expect(lookup.json()).toMatchObject({ totalResults: 0, Resources: [] });
    const created = await scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Engineering',
      members: [{ value: ann.id, display: ann.email }],
    });
    expect(created.statusCode).toBe(201);
    const group = created.json<GroupResource>();
    expect(created.headers.etag).toBe(group.meta.version);
    expect(created.headers.location).toBe(`http://scim.test${base}/Groups/${group.id}`);
    expect(group).toMatchObject({
      schemas: [GROUP],
      displayName: 'Engineering',
      members: [{ value: ann.id, display: 'ann', $ref: `http://scim.test${base}/Users/${ann.id}` }],
    });
    // The group is a team, and the person is in it (as a team member).
    const team = await teamOf(group.id);
    expect(team?.name).toBe('Engineering');
    expect(await teamMembers(team!.id)).toEqual([ann.email]);
    const listed = await call(owner, 'GET', `/organizations/${orgId}/teams/${team!.id}/members`);
    expect(listed.statusCode).toBe(200);
    expect(listed.json<Array<{ roles: Array<{ id: string }> }>>()[0]?.roles).toEqual([
      expect.objectContaining({ id: SYSTEM_ROLES['team-member'].id }),
    ]);

    // Okta's membership PATCH: add two, then remove one by a value filter.
    const added = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH_OP],
      Operations: [
        {
          op: 'add',
          path: 'members',
          value: [
            { value: ben.id, display: ben.email },
            { value: cai.id, display: cai.email },
          ],
        },
      ],
    });
    expect(added.statusCode).toBe(204);
    expect(added.headers.etag).toBe('W/"2"');
    expect(await teamMembers(team!.id)).toEqual([ann.email, ben.email, cai.email]);
    const removed = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'remove', path: `members[value eq "${ben.id}"]` }],
    });
    expect(removed.statusCode).toBe(204);
    expect(await teamMembers(team!.id)).toEqual([ann.email, cai.email]);
    // Rename: a path-less replace carrying the id beside the new name.
    const renamed = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { id: group.id, displayName: 'Platform' } }],
    });
    expect(renamed.statusCode).toBe(204);
    expect((await teamOf(group.id))?.name).toBe('Platform');
    const byName = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "platform"')}`);
    expect(byName.json()).toMatchObject({ totalResults: 1, Resources: [{ id: group.id, displayName: 'Platform' }] });
    // PUT: the whole list, as given.
    const put = await scim('PUT', `/Groups/${group.id}`, {
      schemas: [GROUP],
      id: group.id,
      displayName: 'Platform',
      members: [{ value: cai.id }, { value: ben.id }],
    });
    expect(put.statusCode).toBe(200);
    expect(
      put
        .json<GroupResource>()
        .members?.map((m) => m.value)
        .sort(),
    ).toEqual([ben.id, cai.id].sort());
    expect(await teamMembers(team!.id)).toEqual([ben.email, cai.email]);
    // DELETE: the team goes (no projects hang off it); the people stay members of the organization.
    expect((await scim('DELETE', `/Groups/${group.id}`)).statusCode).toBe(204);
    expectScimError(await scim('GET', `/Groups/${group.id}`), 404);
    expect(await teamOf(group.id)).toBeUndefined();
    expect((await call(owner, 'GET', `/organizations/${orgId}/teams/${team!.id}`)).statusCode).toBe(404);
    expect(await orgRoles(ben.email)).toEqual([SYSTEM_ROLES.member.id]);
    // All of it by the SCIM token, in the organization's log.
    const actions = await system((m) =>
      m.find(AuditLog, { where: { organizationId: orgId, actorType: 'scim_token', targetId: team!.id } }),
    );
    expect(actions.map((row) => row.action).sort()).toEqual(
      ['scim.group.create', 'scim.group.delete', ...Array<string>(4).fill('scim.group.update')].sort(),
    );
  });

  it('follows Entra ID: externalId, "Add"/"Replace"/"Remove" with member lists, membership filters', async () => {
    const dee = await provision('dee');
    const eli = await provision('eli');
    const created = await scim('POST', '/Groups', {
      schemas: [GROUP],
      externalId: '8aa1a0f0-entra-group',
      displayName: 'Sales',
      members: [],
    });
    expect(created.statusCode).toBe(201);
    const group = created.json<GroupResource>();
    const team = (await teamOf(group.id))!;
    const patch = (Operations: object[]) => scim('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP], Operations });
    expect(
      (await patch([{ op: 'Add', path: 'members', value: [{ value: dee.id }, { value: eli.id }] }])).statusCode,
    ).toBe(204);
    // Entra ID asks "is this user in this group" with a filter, without the member list.
    const member = await scim(
      'GET',
      `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`id eq "${group.id}" and members[value eq "${dee.id}"]`)}`,
    );
    expect(member.json()).toMatchObject({ totalResults: 1, Resources: [{ id: group.id }] });
    expect(member.json<{ Resources: object[] }>().Resources[0]).not.toHaveProperty('members');
    expect(
      (await scim('GET', `/Groups?filter=${encodeURIComponent(`members.value eq "${eli.id}"`)}`)).json(),
    ).toMatchObject({ totalResults: 1 });
    expect(
      (await scim('GET', `/Groups?filter=${encodeURIComponent('externalId eq "8aa1a0f0-entra-group"')}`)).json(),
    ).toMatchObject({ totalResults: 1, Resources: [{ externalId: '8aa1a0f0-entra-group' }] });
    expect(
      (
        await patch([
          { op: 'Replace', path: 'displayName', value: 'Sales EMEA' },
          { op: 'Remove', path: 'members', value: [{ value: dee.id }] },
        ])
      ).statusCode,
    ).toBe(204);
    expect(await teamMembers(team.id)).toEqual([eli.email]);
    expect((await teamOf(group.id))?.name).toBe('Sales EMEA');
    const read = await scim('GET', `/Groups/${group.id}?attributes=displayName`);
    expect(read.headers.etag).toBe('W/"3"');
    expect(read.json()).toEqual({
      schemas: [GROUP],
      id: group.id,
      displayName: 'Sales EMEA',
      meta: expect.objectContaining({ resourceType: 'Group', version: 'W/"3"' }) as unknown,
    });
    // A filter on membership that matches nothing, and removal of everyone.
    const nobody = await scim('GET', `/Groups?filter=${encodeURIComponent(`members[value eq "${dee.id}"]`)}`);
    expect(nobody.json()).toMatchObject({ totalResults: 0 });
    expect((await patch([{ op: 'remove', path: 'members' }])).statusCode).toBe(204);
    expect(await teamMembers(team.id)).toEqual([]);
  });

  it('keeps the IdP’s list through a deactivation: back in the team on reactivation; a removal by hand shows', async () => {
    const fay = await provision('fay');
    const group = (
      await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Support', members: [{ value: fay.id }] })
    ).json<GroupResource>();
    const team = (await teamOf(group.id))!;
    const active = (value: boolean) =>
      scim('PATCH', `/Users/${fay.id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', value: { active: value } }],
      });
    expect((await active(false)).statusCode).toBe(200);
    expect(await teamMembers(team.id)).toEqual([]);
    // Still listed by the IdP...
    expect((await scim('GET', `/Groups/${group.id}`)).json<GroupResource>().members?.map((m) => m.value)).toEqual([
      fay.id,
    ]);
    // ...so reactivation puts them back in the team.
    expect((await active(true)).statusCode).toBe(200);
    expect(await teamMembers(team.id)).toEqual([fay.email]);
    // An administrator takes them out of the team by hand: the group no longer lists them, with a new version.
    const userId = (await system((m) => m.findOneByOrFail(User, { email: fay.email }))).id;
    const before = (await scim('GET', `/Groups/${group.id}`)).json<GroupResource>().meta.version;
    expect((await call(owner, 'DELETE', `/organizations/${orgId}/teams/${team.id}/members/${userId}`)).statusCode).toBe(
      204,
    );
    const after = (await scim('GET', `/Groups/${group.id}`)).json<GroupResource>();
    expect(after.members).toEqual([]);
    expect(after.meta.version).not.toBe(before);
  });

  it('maps a group to a role: members hold it while listed, lose it when taken out or unmapped', async () => {
    const gus = await provision('gus');
    const hal = await provision('hal');
    const group = (
      await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Admins', members: [{ value: gus.id }] })
    ).json<GroupResource>();
    const gusTokens = await signIn(gus.email);
    const keys = () =>
      t
        .inject({
          method: 'GET',
          url: `/api/v1/organizations/${orgId}/api-keys`,
          headers: bearer(gusTokens.access_token),
        })
        .then((res) => res.statusCode);
    expect(await keys()).toBe(403);
    const map = (roleId: string | null, as = owner) =>
      call(as, 'PATCH', `/organizations/${orgId}/scim/groups/${group.id}`, { roleId });
    // Neither owner nor member can be mapped; a member of the organization cannot map at all.
    expect((await map(SYSTEM_ROLES.owner.id)).statusCode).toBe(400);
    expect((await map(SYSTEM_ROLES.member.id)).statusCode).toBe(400);
    const plain = await registerAndLogin(t, 'groups-plain');
    await joinByInvitation(t, owner, orgId, plain);
    expect((await map(SYSTEM_ROLES.admin.id, plain)).statusCode).toBe(403);
    const mapped = await map(SYSTEM_ROLES.admin.id);
    expect(mapped.statusCode).toBe(200);
    expect(mapped.json()).toMatchObject({ id: group.id, roleId: SYSTEM_ROLES.admin.id, members: 1 });
    // The very next request has the role.
    expect(await keys()).toBe(200);
    expect(await orgRoles(gus.email)).toEqual([SYSTEM_ROLES.member.id, SYSTEM_ROLES.admin.id].sort());
    // Joining the group brings it; leaving it takes it away.
    await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: hal.id }] }],
    });
    expect(await orgRoles(hal.email)).toContain(SYSTEM_ROLES.admin.id);
    await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'remove', path: `members[value eq "${gus.id}"]` }],
    });
    expect(await keys()).toBe(403);
    expect(await orgRoles(gus.email)).toEqual([SYSTEM_ROLES.member.id]);
    // Unmapping takes it from everyone the mapping gave it to.
    const listed = await call(owner, 'GET', `/organizations/${orgId}/scim/groups`);
    expect(listed.json<Array<{ id: string; roleId: string | null }>>()).toContainEqual(
      expect.objectContaining({ id: group.id, roleId: SYSTEM_ROLES.admin.id }),
    );
    expect((await map(null)).statusCode).toBe(200);
    expect(await orgRoles(hal.email)).toEqual([SYSTEM_ROLES.member.id]);
    expect((await call(owner, 'PATCH', `/organizations/${orgId}/scim/groups/${group.id}`, {})).statusCode).toBe(400);
  });

  it('keeps role mapping within authority: a token’s creator, a team admin, and roles given by hand', async () => {
    const kim = await provision('kim');
    const lee = await provision('lee');
    const group = (
      await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Ops', members: [{ value: kim.id }] })
    ).json<GroupResource>();
    const team = (await teamOf(group.id))!;
    expect(
      (await call(owner, 'PATCH', `/organizations/${orgId}/scim/groups/${group.id}`, { roleId: SYSTEM_ROLES.admin.id }))
        .statusCode,
    ).toBe(200);
    // Someone who manages SCIM through a custom role, without admin's permissions, makes a token...
    const role = await call(owner, 'POST', `/organizations/${orgId}/roles`, {
      name: 'directory keeper',
      scope: 'organization',
      permissions: ['scim:manage', 'members:read'],
    });
    expect(role.statusCode).toBe(201);
    const keeper = await registerAndLogin(t, 'groups-keeper');
    await joinByInvitation(t, owner, orgId, keeper);
    const keeperId = keeper.userId;
    expect(
      (
        await call(owner, 'PUT', `/organizations/${orgId}/members/${keeperId}/roles`, {
          roleIds: [SYSTEM_ROLES.member.id, role.json<{ id: string }>().id],
        })
      ).statusCode,
    ).toBe(200);
    const keeperToken = (
      await call(keeper, 'POST', `/organizations/${orgId}/scim/tokens`, { name: 'side door' })
    ).json<{ token: string }>().token;
    // ...which cannot move people into (or out of) a group that hands out admin.
    const escalate = await scim(
      'PATCH',
      `/Groups/${group.id}`,
      { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: lee.id }] }] },
      {},
      keeperToken,
    );
    expectScimError(escalate, 403);
    expect(await orgRoles(lee.email)).toEqual([SYSTEM_ROLES.member.id]);
    expectScimError(
      await scim(
        'PATCH',
        `/Groups/${group.id}`,
        { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${kim.id}"]` }] },
        {},
        keeperToken,
      ),
      403,
    );
    expect(await orgRoles(kim.email)).toContain(SYSTEM_ROLES.admin.id);
    // A team admin of the provisioned team cannot take the organization role away by removing someone.
    const lead = await registerAndLogin(t, 'groups-lead');
    await joinByInvitation(t, owner, orgId, lead);
    expect(
      (
        await call(owner, 'POST', `/organizations/${orgId}/teams/${team.id}/members`, {
          userId: lead.userId,
          roleIds: [SYSTEM_ROLES['team-admin'].id],
        })
      ).statusCode,
    ).toBe(201);
    const kimUser = await system((m) => m.findOneByOrFail(User, { email: kim.email }));
    expect(
      (await call(lead, 'DELETE', `/organizations/${orgId}/teams/${team.id}/members/${kimUser.id}`)).statusCode,
    ).toBe(403);
    expect(await orgRoles(kim.email)).toContain(SYSTEM_ROLES.admin.id);
    // A role given by hand is the person's: joining and leaving a group that maps it leaves it alone.
    const leeUser = await system((m) => m.findOneByOrFail(User, { email: lee.email }));
    await call(owner, 'PUT', `/organizations/${orgId}/members/${leeUser.id}/roles`, {
      roleIds: [SYSTEM_ROLES.member.id, SYSTEM_ROLES.admin.id],
    });
    const add = (id: string) =>
      scim('PATCH', `/Groups/${group.id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
      });
    expect((await add(lee.id)).statusCode).toBe(204);
    await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'remove', path: `members[value eq "${lee.id}"]` }],
    });
    expect(await orgRoles(lee.email)).toContain(SYSTEM_ROLES.admin.id);
    // Re-sending a member already listed changes nothing (no new version).
    const before = (await scim('GET', `/Groups/${group.id}`)).json<GroupResource>().meta.version;
    const again = await add(kim.id);
    expect(again.headers.etag).toBe(before);
    // Someone put in the team by hand before the IdP lists them still gets the mapped role when listed.
    const may = await provision('may');
    const mayUser = await system((m) => m.findOneByOrFail(User, { email: may.email }));
    expect(
      (await call(owner, 'POST', `/organizations/${orgId}/teams/${team.id}/members`, { userId: mayUser.id }))
        .statusCode,
    ).toBe(201);
    expect((await add(may.id)).statusCode).toBe(204);
    expect(await orgRoles(may.email)).toContain(SYSTEM_ROLES.admin.id);
    // Deleting the provisioned team by hand takes the directory's roles with it.
    expect((await call(owner, 'DELETE', `/organizations/${orgId}/teams/${team.id}`)).statusCode).toBe(204);
    expect(await orgRoles(kim.email)).toEqual([SYSTEM_ROLES.member.id]);
    expect(await orgRoles(may.email)).toEqual([SYSTEM_ROLES.member.id]);
    expectScimError(await scim('GET', `/Groups/${group.id}`), 404);
  });

  it('never deletes a team that projects belong to', async () => {
    const group = (await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Research' })).json<GroupResource>();
    const team = (await teamOf(group.id))!;
    const project = await call(owner, 'POST', `/organizations/${orgId}/projects`, { name: 'Lab', teamId: team.id });
    expect(project.statusCode).toBe(201);
    expect((await scim('DELETE', `/Groups/${group.id}`)).statusCode).toBe(204);
    expect((await call(owner, 'GET', `/organizations/${orgId}/teams/${team.id}`)).statusCode).toBe(200);
    const row = await system((m) => m.findOneByOrFail(AuditLog, { action: 'scim.group.delete', targetId: team.id }));
    expect(row.metadata).toMatchObject({ teamDeleted: false });
  });

  it('answers bad input in SCIM’s error schema and changes nothing', async () => {
    const ivy = await provision('ivy');
    const group = (
      await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Design', members: [{ value: ivy.id }] })
    ).json<GroupResource>();
    const version = group.meta.version;
    const patch = (Operations: object[], headers: Record<string, string> = {}) =>
      scim('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP], Operations }, headers);
    // An unknown member among known ones: nothing applied.
    const unknown = await patch([
      { op: 'replace', path: 'displayName', value: 'Renamed' },
      { op: 'add', path: 'members', value: [{ value: newId() }] },
    ]);
    expectScimError(unknown, 400, 'invalidValue');
    expectScimError(
      await patch([{ op: 'add', path: 'members', value: [{ value: 'not-an-id' }] }]),
      400,
      'invalidValue',
    );
    expectScimError(await patch([{ op: 'replace', path: 'owners', value: 'x' }]), 400, 'invalidPath');
    expectScimError(await patch([{ op: 'replace', path: '__proto__.polluted', value: 'x' }]), 400, 'invalidPath');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expectScimError(await patch([{ op: 'add', path: `members[value eq "${ivy.id}"]` }]), 400, 'invalidPath');
    expectScimError(await patch([{ op: 'remove', path: 'displayName' }]), 400, 'mutability');
    expectScimError(await patch([{ op: 'move', path: 'displayName', value: 'x' }]), 400, 'invalidSyntax');
    expectScimError(await patch([{ op: 'replace', path: 'displayName', value: 'x' }], { 'if-match': 'W/"99"' }), 412);
    expectScimError(
      await scim('PATCH', `/Groups/${group.id}`, { schemas: [USER], Operations: [{ op: 'add', value: {} }] }),
      400,
      'invalidValue',
    );
    // Names are unique without regard to case; so are external ids.
    expectScimError(await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'design' }), 409, 'uniqueness');
    expectScimError(
      await scim('POST', '/Groups', { schemas: [GROUP, USER], displayName: 'Other' }),
      400,
      'invalidValue',
    );
    expectScimError(await scim('POST', '/Groups', { schemas: [GROUP] }), 400, 'invalidValue');
    expectScimError(await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'a\u0000b' }), 400, 'invalidValue');
    // Filters: unknown attributes and injection attempts are invalidFilter, never SQL.
    for (const filter of [
      'owners eq "x"',
      `displayName eq "x' OR 1=1 --"`,
      'displayName eq "x") OR (1=1',
      'members[display eq "x"]',
    ]) {
      const res = await scim('GET', `/Groups?filter=${encodeURIComponent(filter)}`);
      if (res.statusCode === 200) expect(res.json()).toMatchObject({ totalResults: 0 });
      else expectScimError(res, 400, 'invalidFilter');
    }
    // Nothing above changed the group.
    const now = (await scim('GET', `/Groups/${group.id}`)).json<GroupResource>();
    expect(now.meta.version).toBe(version);
    expect(now.displayName).toBe('Design');
    expect(now.members?.map((m) => m.value)).toEqual([ivy.id]);
  });

  it('reaches only its organization: another organization’s token and ids get 404', async () => {
    const group = (await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Private' })).json<GroupResource>();
    const otherOrg = (await call(owner, 'POST', '/organizations', { name: 'Groups Other' })).json<{ id: string }>().id;
    const otherToken = (await call(owner, 'POST', `/organizations/${otherOrg}/scim/tokens`, { name: 'IdP' })).json<{
      token: string;
    }>().token;
    const otherBase = `/api/v1/organizations/${otherOrg}/scim/v2`;
    // The other organization's token, on its own path, naming this group: no such group there.
    expectScimError(await scim('GET', `/Groups/${group.id}`, undefined, {}, otherToken, otherBase), 404);
    expectScimError(
      await scim(
        'PATCH',
        `/Groups/${group.id}`,
        { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Stolen' }] },
        {},
        otherToken,
        otherBase,
      ),
      404,
    );
    expectScimError(await scim('DELETE', `/Groups/${group.id}`, undefined, {}, otherToken, otherBase), 404);
    // And on this organization's path it is refused outright.
    expectScimError(await scim('GET', `/Groups/${group.id}`, undefined, {}, otherToken), 404);
    // Its own group cannot list this organization's users as members.
    const jay = await provision('jay');
    const theirs = await scim(
      'POST',
      '/Groups',
      { schemas: [GROUP], displayName: 'Theirs', members: [{ value: jay.id }] },
      {},
      otherToken,
      otherBase,
    );
    expectScimError(theirs, 400, 'invalidValue');
    expect((await scim('GET', `/Groups/${group.id}`)).json<GroupResource>().displayName).toBe('Private');
  });

  it('applies a 10,000-member PATCH in one transaction, and refuses one more or one unknown without a trace', async () => {
    // 10,000 provisioned people, written directly (POST /Users has its own tests and its rate in bench:identity).
    const ids = Array.from({ length: 10_001 }, () => newId());
    const userIds = ids.map(() => newId());
    await system(async (m) => {
      await m.query(
        `INSERT INTO users (id, email, email_verified_at, full_name)
         SELECT id, 'bulk-' || n || '@${DOMAIN}', now(), NULL FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
        [userIds],
      );
      await m.query(
        `INSERT INTO organization_members (id, organization_id, user_id)
         SELECT gen_random_uuid(), $1, id FROM unnest($2::uuid[]) AS t(id)`,
        [orgId, userIds],
      );
      await m.query(
        `INSERT INTO role_assignments (id, organization_id, user_id, role_id)
         SELECT gen_random_uuid(), $1, id, $3 FROM unnest($2::uuid[]) AS t(id)`,
        [orgId, userIds, SYSTEM_ROLES.member.id],
      );
      await m.query(
        `INSERT INTO scim_users (id, organization_id, user_id, user_name)
         SELECT s, $1, u, 'bulk-' || n || '@${DOMAIN}' FROM unnest($2::uuid[], $3::uuid[]) WITH ORDINALITY AS t(s, u, n)`,
        [orgId, ids, userIds],
      );
    });
    const group = (await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Everyone' })).json<GroupResource>();
    const team = (await teamOf(group.id))!;
    const count = async () =>
      Number(
        (
          await system((m) =>
            m.query<Array<{ n: string }>>('SELECT count(*) AS n FROM team_members WHERE team_id = $1', [team.id]),
          )
        )[0]?.n,
      );
    const members = (list: string[]) => list.map((value) => ({ value, display: `${value.slice(0, 8)} Bulk Person` }));
    // One more than the bound: refused before anything is read.
    const tooMany = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: members(ids) }],
    });
    expectScimError(tooMany, 400, 'invalidValue');
    // 9,999 real ones and one unknown: refused, none added.
    const withUnknown = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: members([...ids.slice(0, 9_999), newId()]) }],
    });
    expectScimError(withUnknown, 400, 'invalidValue');
    expect(await count()).toBe(0);
    // Exactly the bound: applied, all of it.
    const all = await scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: members(ids.slice(0, 10_000)) }],
    });
    expect(all.statusCode).toBe(204);
    expect(await count()).toBe(10_000);
    const listed = await call(owner, 'GET', `/organizations/${orgId}/scim/groups`);
    expect(listed.json<Array<{ id: string; members: number }>>()).toContainEqual(
      expect.objectContaining({ id: group.id, members: 10_000 }),
    );
    // A list page with member lists stays bounded: it ends once its groups hold 10,000 members.
    // The groups before this one fill a page; the next page is this group alone (it holds 10,000).
    type Page = { totalResults: number; itemsPerPage: number; Resources: GroupResource[] };
    const first = (await scim('GET', '/Groups?count=200')).json<Page>();
    expect(first.Resources.map((item) => item.id)).not.toContain(group.id);
    expect(first.itemsPerPage).toBe(first.Resources.length);
    expect(first.itemsPerPage).toBeLessThan(first.totalResults);
    const next = (await scim('GET', `/Groups?count=200&startIndex=${first.itemsPerPage + 1}`)).json<Page>();
    expect(next.Resources[0]?.id).toBe(group.id);
    expect(next.Resources[0]?.members).toHaveLength(10_000);
    expect(next.Resources).toHaveLength(1);
    // And out again with one operation.
    expect(
      (
        await scim('PATCH', `/Groups/${group.id}`, {
          schemas: [PATCH_OP],
          Operations: [{ op: 'remove', path: 'members' }],
        })
      ).statusCode,
    ).toBe(204);
    expect(await count()).toBe(0);
  });
});
