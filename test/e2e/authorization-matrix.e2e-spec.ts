import { SYSTEM_ROLES } from '@app/rbac';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { isObjectType } from 'graphql';
import { ClsServiceManager } from 'nestjs-cls';
import {
  bearer,
  createRoleFixture,
  createTestApp,
  fillPath,
  registeredRoutes,
  RESOURCE_FIXTURES,
  startOpenAiStandIn,
  type OpenAiStandIn,
  type RegisteredRoute,
  type RoleFixture,
  type RoleName,
  type TestApp,
} from '@app/testing';

/** Route parameters that name an object someone owns: each one is a way to reach another tenant's data. */
const ID_PARAMETERS = [
  'orgId',
  'teamId',
  'userId',
  'roleId',
  'invitationId',
  'sessionId',
  'apiKeyId',
  'identityId',
  'passkeyId',
  'exportId',
  // Installation-wide (platform admins only): no tenant owns a job, and no tenant may reach one.
  'jobId',
  // An organization, on a platform-admin route (so not :orgId, which marks organization routes).
  'organizationId',
  'llmJobId',
  'connectionId',
  'domainId',
  'tokenId',
  'scimUserId',
  'scimGroupId',
  'endpointId',
  'deliveryId',
  ...RESOURCE_FIXTURES.map((resource) => resource.idParameter),
];
/** Route parameters that name no object (a provider's name). Anything else must be in ID_PARAMETERS. */
const OTHER_PARAMETERS = ['provider'];
const NOBODY = '0195d2a0-7b1c-7c3e-8a4b-1234567890ab';

const key = (route: RegisteredRoute) => `${route.method} ${route.path}`;
/** Routes whose answer, when it passes, is a stream that stays open (read the head only). */
const STREAMING = new Set(['GET /organizations/:orgId/events/stream']);

/**
 * Who may pass the permission check of each organization route, by system role (the team people
 * also hold the organization role viewer). Written by hand on purpose: a change to a role or a
 * route's permission must show up here in review. A new organization route fails until listed.
 */
const EXPECTED: Record<string, string> = {
  'GET /organizations/:orgId': 'owner admin member viewer team-admin team-member',
  'PUT /organizations/:orgId': 'owner admin',
  'DELETE /organizations/:orgId': 'owner',
  'POST /organizations/:orgId/restore': 'owner',
  'POST /organizations/:orgId/exports': 'owner',
  'GET /organizations/:orgId/exports/:exportId': 'owner',
  'GET /organizations/:orgId/members': 'owner admin member viewer team-admin team-member',
  'POST /organizations/:orgId/members': 'owner admin',
  'DELETE /organizations/:orgId/members': 'owner admin',
  'DELETE /organizations/:orgId/members/:userId': 'owner admin',
  'PUT /organizations/:orgId/members/:userId/roles': 'owner admin',
  'GET /organizations/:orgId/invitations': 'owner admin member viewer team-admin team-member',
  'GET /organizations/:orgId/invitations/:invitationId': 'owner admin member viewer team-admin team-member',
  'POST /organizations/:orgId/invitations': 'owner admin',
  'DELETE /organizations/:orgId/invitations/:invitationId': 'owner admin',
  'POST /organizations/:orgId/invitations/:invitationId/resend': 'owner admin',
  'GET /organizations/:orgId/roles': 'owner admin member viewer team-admin team-member',
  'GET /organizations/:orgId/roles/:roleId': 'owner admin member viewer team-admin team-member',
  'POST /organizations/:orgId/roles': 'owner admin',
  'PUT /organizations/:orgId/roles/:roleId': 'owner admin',
  'DELETE /organizations/:orgId/roles/:roleId': 'owner admin',
  'GET /organizations/:orgId/teams': 'owner admin member viewer team-admin team-member',
  'POST /organizations/:orgId/teams': 'owner admin member',
  'GET /organizations/:orgId/teams/:teamId': 'owner admin member viewer team-admin team-member',
  'PUT /organizations/:orgId/teams/:teamId': 'owner admin team-admin',
  'DELETE /organizations/:orgId/teams/:teamId': 'owner admin',
  'GET /organizations/:orgId/teams/:teamId/members': 'owner admin member viewer team-admin team-member',
  'POST /organizations/:orgId/teams/:teamId/members': 'owner admin team-admin',
  'DELETE /organizations/:orgId/teams/:teamId/members/:userId': 'owner admin team-admin',
  'PUT /organizations/:orgId/teams/:teamId/members/:userId/roles': 'owner admin team-admin',
  'GET /organizations/:orgId/api-keys': 'owner admin',
  'GET /organizations/:orgId/api-keys/:apiKeyId': 'owner admin',
  'POST /organizations/:orgId/api-keys': 'owner admin',
  'DELETE /organizations/:orgId/api-keys/:apiKeyId': 'owner admin',
  'GET /organizations/:orgId/audit-logs': 'owner admin',
  'GET /organizations/:orgId/audit-logs/export': 'owner admin',
  'GET /organizations/:orgId/audit-logs/verify': 'owner admin',
  'POST /organizations/:orgId/llm/chat': 'owner admin member team-admin team-member',
  'POST /organizations/:orgId/llm/jobs': 'owner admin member team-admin team-member',
  'GET /organizations/:orgId/llm/jobs/:llmJobId': 'owner admin member team-admin team-member',
  'GET /organizations/:orgId/llm/usage': 'owner admin member team-admin team-member',
  'GET /organizations/:orgId/sso/connections': 'owner admin',
  'POST /organizations/:orgId/sso/connections': 'owner admin',
  'GET /organizations/:orgId/sso/connections/:connectionId': 'owner admin',
  'PATCH /organizations/:orgId/sso/connections/:connectionId': 'owner admin',
  'DELETE /organizations/:orgId/sso/connections/:connectionId': 'owner admin',
  'GET /organizations/:orgId/sso/enforcement': 'owner admin',
  'PUT /organizations/:orgId/sso/enforcement': 'owner admin',
  'GET /organizations/:orgId/domains': 'owner admin',
  'POST /organizations/:orgId/domains': 'owner admin',
  'POST /organizations/:orgId/domains/:domainId/verify': 'owner admin',
  'DELETE /organizations/:orgId/domains/:domainId': 'owner admin',
  'GET /organizations/:orgId/scim/tokens': 'owner admin',
  'POST /organizations/:orgId/scim/tokens': 'owner admin',
  'DELETE /organizations/:orgId/scim/tokens/:tokenId': 'owner admin',
  // The SCIM endpoint: no role passes (scim:provision is held by SCIM tokens only).
  'GET /organizations/:orgId/scim/v2/ServiceProviderConfig': '',
  'GET /organizations/:orgId/scim/v2/ResourceTypes': '',
  'GET /organizations/:orgId/scim/v2/Schemas': '',
  'GET /organizations/:orgId/scim/v2/Users': '',
  'POST /organizations/:orgId/scim/v2/Users': '',
  'GET /organizations/:orgId/scim/v2/Users/:scimUserId': '',
  'PUT /organizations/:orgId/scim/v2/Users/:scimUserId': '',
  'PATCH /organizations/:orgId/scim/v2/Users/:scimUserId': '',
  'DELETE /organizations/:orgId/scim/v2/Users/:scimUserId': '',
  'GET /organizations/:orgId/scim/v2/Groups': '',
  'POST /organizations/:orgId/scim/v2/Groups': '',
  'GET /organizations/:orgId/scim/v2/Groups/:scimGroupId': '',
  'PUT /organizations/:orgId/scim/v2/Groups/:scimGroupId': '',
  'PATCH /organizations/:orgId/scim/v2/Groups/:scimGroupId': '',
  'DELETE /organizations/:orgId/scim/v2/Groups/:scimGroupId': '',
  'GET /organizations/:orgId/scim/groups': 'owner admin',
  'GET /organizations/:orgId/events/stream': 'owner admin member viewer team-admin team-member',
  'GET /organizations/:orgId/webhooks/endpoints': 'owner admin',
  'POST /organizations/:orgId/webhooks/endpoints': 'owner admin',
  'GET /organizations/:orgId/webhooks/endpoints/:endpointId': 'owner admin',
  'PATCH /organizations/:orgId/webhooks/endpoints/:endpointId': 'owner admin',
  'DELETE /organizations/:orgId/webhooks/endpoints/:endpointId': 'owner admin',
  'POST /organizations/:orgId/webhooks/endpoints/:endpointId/rotate-secret': 'owner admin',
  'POST /organizations/:orgId/webhooks/endpoints/:endpointId/test': 'owner admin',
  'GET /organizations/:orgId/webhooks/endpoints/:endpointId/deliveries': 'owner admin',
  'POST /organizations/:orgId/webhooks/endpoints/:endpointId/deliveries/:deliveryId/resend': 'owner admin',
  'PATCH /organizations/:orgId/scim/groups/:scimGroupId': 'owner admin',
  // Resources registered in test/support/resource-fixtures.ts bring their own rows.
  ...(Object.assign({}, ...RESOURCE_FIXTURES.map((resource) => resource.expected)) as Record<string, string>),
};

/** Least privileged first, so a destructive route succeeds only after everyone else was checked. */
const ROLE_ORDER: RoleName[] = ['viewer', 'team-member', 'member', 'team-admin', 'admin', 'owner'];

describe('authorization matrices', () => {
  let t: TestApp;
  let f: RoleFixture;
  let routes: RegisteredRoute[];

  let llm: OpenAiStandIn;

  beforeAll(async () => {
    // A provider, so the LLM routes answer (their 503 without one is not what is checked here).
    llm = await startOpenAiStandIn();
    t = await createTestApp({ env: { OPENAI_BASE_URL: llm.url } });
    f = await createRoleFixture(t);
    routes = registeredRoutes(t.app).filter((route) => route.access !== 'public');
  });
  afterAll(async () => {
    await t.close();
    await llm.close();
  });

  const send = (token: string, method: string, path: string, payload?: object) =>
    t.inject({ method: method as 'GET', url: `/api/v1${path}`, headers: bearer(token), payload });
  /** A stream that passes stays open: its status is read from the head, and the stream dropped. */
  const streamStatus = async (token: string, path: string) => {
    const res = await t.inject({ method: 'GET', url: `/api/v1${path}`, headers: bearer(token), payloadAsStream: true });
    res.stream().destroy();
    return { statusCode: res.statusCode };
  };

  describe('BOLA: tenant B never reaches tenant A through an id', () => {
    const attackerIds = () => ({
      orgId: f.a.orgId,
      teamId: f.a.teamId,
      userId: f.a.users.member.userId,
      roleId: f.a.roleId,
      invitationId: f.a.invitationId,
      sessionId: f.a.sessionId,
      apiKeyId: f.a.apiKey.id,
      identityId: f.a.identityId,
      passkeyId: f.a.passkeyId,
      exportId: f.a.exportId,
      jobId: NOBODY,
      organizationId: f.a.orgId,
      llmJobId: NOBODY,
      ...f.a.objects,
    });
    /** Bodies that pass validation, so the refusal is about the object, not the input. */
    const bodyFor = (route: RegisteredRoute): object | undefined =>
      ({
        'PUT /organizations/:orgId/teams/:teamId': { name: 'Hijacked' },
        'POST /organizations/:orgId/teams/:teamId/members': { userId: f.b.users.member.userId },
        'PUT /organizations/:orgId/teams/:teamId/members/:userId/roles': { roleIds: [SYSTEM_ROLES['team-member'].id] },
        'PUT /organizations/:orgId/members/:userId/roles': { roleIds: [SYSTEM_ROLES.member.id] },
        'PUT /organizations/:orgId/roles/:roleId': { name: 'hijacked' },
        'PUT /organizations/:orgId': { name: 'Hijacked' },
        'POST /organizations/:orgId/members': { userId: f.b.users.member.userId },
        'DELETE /organizations/:orgId/members': { userId: f.a.users.member.userId },
        'PATCH /organizations/:orgId/scim/v2/Users/:scimUserId': {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', value: { active: false } }],
        },
        'PATCH /organizations/:orgId/scim/v2/Groups/:scimGroupId': {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'displayName', value: 'Hijacked' }],
        },
        'PUT /organizations/:orgId/scim/v2/Groups/:scimGroupId': {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
          displayName: 'Hijacked',
        },
        'PATCH /organizations/:orgId/scim/groups/:scimGroupId': { roleId: null },
        'PATCH /organizations/:orgId/webhooks/endpoints/:endpointId': { description: 'Hijacked' },
        'PATCH /auth/passkeys/:passkeyId': { name: 'Hijacked' },
        ...Object.fromEntries(
          RESOURCE_FIXTURES.flatMap((resource) =>
            ['PUT', 'PATCH'].map((method) => [
              `${method} /organizations/:orgId/${resource.path}/:${resource.idParameter}`,
              resource.update,
            ]),
          ),
        ),
      })[key(route)];

    it('knows every route parameter: a new kind of id must be added to the matrix', () => {
      const unknown = routes.flatMap((route) =>
        route.params
          .filter((p) => !ID_PARAMETERS.includes(p) && !OTHER_PARAMETERS.includes(p))
          .map((p) => `${key(route)} :${p}`),
      );
      expect(unknown).toEqual([]);
    });

    it("refuses B's owner every route with A's ids (404 for A's organization, 403/404 elsewhere)", async () => {
      const targeted = routes.filter((route) => route.params.some((p) => ID_PARAMETERS.includes(p)));
      expect(targeted.length).toBeGreaterThanOrEqual(30);
      const outcomes: string[] = [];
      for (const route of targeted) {
        const res = await send(
          f.b.users.owner.tokens.access_token,
          route.method,
          fillPath(route, attackerIds()),
          bodyFor(route),
        );
        const expected = route.params.includes('orgId') ? [404] : [403, 404];
        if (!expected.includes(res.statusCode)) outcomes.push(`${key(route)} -> ${res.statusCode} ${res.body}`);
      }
      expect(outcomes).toEqual([]);
    });

    it("refuses B's owner A's objects through B's own organization (the guard passes; the lookup must not)", async () => {
      const nested = routes.filter(
        (route) =>
          route.params.includes('orgId') && route.params.some((p) => p !== 'orgId' && ID_PARAMETERS.includes(p)),
      );
      expect(nested.length).toBeGreaterThanOrEqual(12);
      const outcomes: string[] = [];
      for (const route of nested) {
        const path = fillPath(route, { ...attackerIds(), orgId: f.b.orgId });
        // The SCIM endpoint passes no person (403 before any lookup); B's own SCIM token is its caller.
        const scimRoute = EXPECTED[key(route)] === '';
        const res = scimRoute
          ? await t.inject({
              method: route.method,
              url: `/api/v1${path}`,
              headers: bearer(f.b.scimToken),
              payload: bodyFor(route),
            })
          : await send(f.b.users.owner.tokens.access_token, route.method, path, bodyFor(route));
        if (res.statusCode !== 404) outcomes.push(`${key(route)} -> ${res.statusCode} ${res.body}`);
      }
      expect(outcomes).toEqual([]);
    });

    it("refuses B's API key (every permission a key may hold) everything of A's", async () => {
      const targeted = routes.filter((route) => route.params.some((p) => ID_PARAMETERS.includes(p)));
      const outcomes: string[] = [];
      for (const route of targeted) {
        const nested = route.params.some((p) => p !== 'orgId' && ID_PARAMETERS.includes(p));
        for (const orgId of nested ? [f.a.orgId, f.b.orgId] : [f.a.orgId]) {
          const path = fillPath(route, { ...attackerIds(), orgId });
          const res = await t.inject({
            method: route.method,
            url: `/api/v1${path}`,
            headers: { 'x-api-key': f.b.apiKey.key },
            payload: bodyFor(route),
          });
          // Another organization: 404. Its own organization with A's objects: 404, or 403 where the
          // route is beyond any key. Routes outside organizations: 403 api-key-not-allowed.
          const ok = route.params.includes('orgId')
            ? orgId === f.a.orgId
              ? res.statusCode === 404
              : [403, 404].includes(res.statusCode)
            : res.statusCode === 403;
          if (!ok) outcomes.push(`${key(route)} (${orgId === f.a.orgId ? 'A' : 'B'}) -> ${res.statusCode} ${res.body}`);
        }
      }
      expect(outcomes).toEqual([]);
    });

    it("leaves A's data as it was", async () => {
      const owner = f.a.users.owner.tokens.access_token;
      const base = `/organizations/${f.a.orgId}`;
      expect((await send(owner, 'GET', base)).json()).toMatchObject({ name: 'Org a' });
      expect((await send(owner, 'GET', `${base}/teams/${f.a.teamId}`)).json()).toMatchObject({ name: 'Core' });
      for (const resource of RESOURCE_FIXTURES) {
        const res = await send(owner, 'GET', `${base}/${resource.path}/${f.a.objects[resource.idParameter]}`);
        expect({ path: resource.path, status: res.statusCode }).toEqual({ path: resource.path, status: 200 });
        expect(res.json()).toMatchObject(resource.create({ teamId: f.a.teamId }));
      }
      expect((await send(owner, 'GET', `${base}/roles/${f.a.roleId}`)).json()).toMatchObject({ name: 'auditor' });
      expect((await send(owner, 'GET', `${base}/invitations/${f.a.invitationId}`)).json()).toMatchObject({
        status: 'pending',
      });
      // The six role holders and the person the fixture's SCIM token provisioned.
      expect((await send(owner, 'GET', `${base}/members`)).json()).toMatchObject({ total: 7 });
      expect((await send(owner, 'GET', `${base}/teams/${f.a.teamId}/members`)).json<unknown[]>()).toHaveLength(3);
      expect((await send(owner, 'GET', '/users/me')).statusCode).toBe(200);
      expect((await send(owner, 'GET', '/users/me/identities')).json()).toEqual([
        expect.objectContaining({ id: f.a.identityId }) as object,
      ]);
      expect((await send(owner, 'GET', `${base}/api-keys/${f.a.apiKey.id}`)).json()).toMatchObject({
        status: 'active',
      });
      expect(
        (await t.inject({ method: 'GET', url: `/api/v1${base}/teams`, headers: bearer(f.a.apiKey.key) })).statusCode,
      ).toBe(200);
    });
  });

  describe('warm requests', () => {
    it('authenticate and authorize from memory: no session or permission query once warm', async () => {
      const runner = t.dataSource.createQueryRunner();
      const prototype = Object.getPrototypeOf(runner) as { query: (...args: unknown[]) => Promise<unknown> };
      await runner.release();
      const original = prototype.query;
      // Each statement with the request it was made for: a background job (the outbox relay, the
      // API keys' last-used flush) may query while a request is in flight, and is not the request's.
      const statements: Array<{ sql: string; requestId: string | undefined }> = [];
      prototype.query = function (this: unknown, ...args: unknown[]) {
        const cls = ClsServiceManager.getClsService();
        statements.push({ sql: String(args[0]), requestId: cls.isActive() ? cls.getId() : undefined });
        return original.apply(this, args);
      };
      try {
        const viewer = await createRoleFixture(t).then((fresh) => fresh.a);
        const url = `/api/v1/organizations/${viewer.orgId}/teams`;
        const token = viewer.users.viewer.tokens.access_token;
        const request = async (requestId: string) => {
          const res = await t.inject({ method: 'GET', url, headers: { ...bearer(token), 'x-request-id': requestId } });
          expect(res.statusCode).toBe(200);
          return statements.filter((statement) => statement.requestId === requestId).map(({ sql }) => sql);
        };
        const cold = await request('warm-requests-cold');
        const warm = await request('warm-requests-warm');
        const authorization = (sql: string) => /\bsessions\b|role_permissions/.test(sql);
        // The detector sees the lookups when they happen...
        expect(cold.filter(authorization).length).toBeGreaterThanOrEqual(1);
        // ...and a warm request makes none: only the handler's own queries remain.
        expect(warm.filter(authorization)).toEqual([]);
        expect(warm.length).toBeLessThan(cold.length);
      } finally {
        prototype.query = original;
      }
    });
  });

  describe('GraphQL: each operation obeys the matrix of the REST route it stands for', () => {
    interface Operation {
      /** The REST route doing the same thing: its line in EXPECTED is this operation's too. */
      rest: string;
      query: string;
      variables: (ids: { orgId: string; teamId: string }) => Record<string, unknown>;
      /** For the BOLA checks: the same mutation with input that would go through, on the team named. */
      attack?: Omit<Operation, 'rest' | 'attack'>;
    }
    /**
     * Every GraphQL field that names a permission, run against the fixture's tenant A. Mutations
     * carry input the validation refuses or a team that does not exist, so a caller who passes the
     * guard changes nothing (BAD_USER_INPUT, NOT_FOUND) and one who does not gets FORBIDDEN.
     */
    const OPERATIONS: Record<string, Operation> = {
      'Query.organization': {
        rest: 'GET /organizations/:orgId',
        query: 'query($o: ID!) { organization(orgId: $o) { id } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Organization.teams': {
        rest: 'GET /organizations/:orgId/teams',
        query: 'query($o: ID!) { organization(orgId: $o) { teams { totalCount } } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Organization.team': {
        rest: 'GET /organizations/:orgId/teams/:teamId',
        query: 'query($o: ID!, $t: ID!) { organization(orgId: $o) { team(teamId: $t) { id } } }',
        variables: ({ orgId, teamId }) => ({ o: orgId, t: teamId }),
      },
      'Organization.members': {
        rest: 'GET /organizations/:orgId/members',
        query: 'query($o: ID!) { organization(orgId: $o) { members { totalCount } } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Team.members': {
        rest: 'GET /organizations/:orgId/teams/:teamId/members',
        query: 'query($o: ID!, $t: ID!) { organization(orgId: $o) { team(teamId: $t) { members { email } } } }',
        variables: ({ orgId, teamId }) => ({ o: orgId, t: teamId }),
      },
      'Organization.roles': {
        rest: 'GET /organizations/:orgId/roles',
        query: 'query($o: ID!) { organization(orgId: $o) { roles { id } } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Organization.projects': {
        rest: 'GET /organizations/:orgId/projects',
        query: 'query($o: ID!) { organization(orgId: $o) { projects { totalCount } } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Organization.invitations': {
        rest: 'GET /organizations/:orgId/invitations',
        query: 'query($o: ID!) { organization(orgId: $o) { invitations { totalCount } } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Organization.apiKeys': {
        rest: 'GET /organizations/:orgId/api-keys',
        query: 'query($o: ID!) { organization(orgId: $o) { apiKeys { totalCount } } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Organization.auditLog': {
        rest: 'GET /organizations/:orgId/audit-logs',
        query: 'query($o: ID!) { organization(orgId: $o) { auditLog(first: 1) { edges { cursor } } } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Mutation.updateOrganization': {
        rest: 'PUT /organizations/:orgId',
        query: 'mutation($o: ID!) { updateOrganization(orgId: $o, input: { name: "   " }) { id } }',
        variables: ({ orgId }) => ({ o: orgId }),
        attack: {
          query: 'mutation($o: ID!) { updateOrganization(orgId: $o, input: { name: "Hijacked" }) { id } }',
          variables: ({ orgId }) => ({ o: orgId }),
        },
      },
      'Mutation.addMember': {
        rest: 'POST /organizations/:orgId/members',
        query: 'mutation($o: ID!) { addMember(orgId: $o, input: { userId: "not-a-uuid" }) { userId } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Mutation.setMemberRoles': {
        rest: 'PUT /organizations/:orgId/members/:userId/roles',
        query:
          'mutation($o: ID!, $u: ID!) { setMemberRoles(orgId: $o, userId: $u, input: { roleIds: ["x"] }) { userId } }',
        variables: ({ orgId }) => ({ o: orgId, u: NOBODY }),
        attack: {
          query:
            'mutation($o: ID!, $u: ID!, $r: ID!) { setMemberRoles(orgId: $o, userId: $u, input: { roleIds: [$r] }) { userId } }',
          variables: ({ orgId }) => ({ o: orgId, u: f.a.users.member.userId, r: SYSTEM_ROLES.viewer.id }),
        },
      },
      'Mutation.removeMember': {
        rest: 'DELETE /organizations/:orgId/members/:userId',
        query: 'mutation($o: ID!, $u: ID!) { removeMember(orgId: $o, userId: $u) }',
        variables: ({ orgId }) => ({ o: orgId, u: NOBODY }),
        attack: {
          query: 'mutation($o: ID!, $u: ID!) { removeMember(orgId: $o, userId: $u) }',
          variables: ({ orgId }) => ({ o: orgId, u: f.a.users.member.userId }),
        },
      },
      'Mutation.addTeamMember': {
        rest: 'POST /organizations/:orgId/teams/:teamId/members',
        query: 'mutation($o: ID!, $t: ID!) { addTeamMember(orgId: $o, teamId: $t, input: { userId: "x" }) { userId } }',
        variables: ({ orgId, teamId }) => ({ o: orgId, t: teamId }),
        attack: {
          query:
            'mutation($o: ID!, $t: ID!, $u: ID!) { addTeamMember(orgId: $o, teamId: $t, input: { userId: $u }) { userId } }',
          variables: ({ orgId, teamId }) => ({ o: orgId, t: teamId, u: f.b.users.member.userId }),
        },
      },
      'Mutation.setTeamMemberRoles': {
        rest: 'PUT /organizations/:orgId/teams/:teamId/members/:userId/roles',
        query:
          'mutation($o: ID!, $t: ID!, $u: ID!) { setTeamMemberRoles(orgId: $o, teamId: $t, userId: $u, input: { roleIds: ["x"] }) { userId } }',
        variables: ({ orgId, teamId }) => ({ o: orgId, t: teamId, u: NOBODY }),
        attack: {
          query:
            'mutation($o: ID!, $t: ID!, $u: ID!, $r: ID!) { setTeamMemberRoles(orgId: $o, teamId: $t, userId: $u, input: { roleIds: [$r] }) { userId } }',
          variables: ({ orgId, teamId }) => ({
            o: orgId,
            t: teamId,
            u: f.a.users['team-member'].userId,
            r: SYSTEM_ROLES['team-admin'].id,
          }),
        },
      },
      'Mutation.removeTeamMember': {
        rest: 'DELETE /organizations/:orgId/teams/:teamId/members/:userId',
        query: 'mutation($o: ID!, $t: ID!, $u: ID!) { removeTeamMember(orgId: $o, teamId: $t, userId: $u) }',
        variables: ({ orgId, teamId }) => ({ o: orgId, t: teamId, u: NOBODY }),
      },
      'Mutation.createRole': {
        rest: 'POST /organizations/:orgId/roles',
        query:
          'mutation($o: ID!) { createRole(orgId: $o, input: { name: "!!", scope: "organization", permissions: [] }) { id } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Mutation.updateRole': {
        rest: 'PUT /organizations/:orgId/roles/:roleId',
        query: 'mutation($o: ID!, $r: ID!) { updateRole(orgId: $o, roleId: $r, input: { name: "!!" }) { id } }',
        variables: ({ orgId }) => ({ o: orgId, r: NOBODY }),
        attack: {
          query: 'mutation($o: ID!, $r: ID!) { updateRole(orgId: $o, roleId: $r, input: { name: "hijacked" }) { id } }',
          variables: ({ orgId }) => ({ o: orgId, r: f.a.roleId }),
        },
      },
      'Mutation.deleteRole': {
        rest: 'DELETE /organizations/:orgId/roles/:roleId',
        query: 'mutation($o: ID!, $r: ID!) { deleteRole(orgId: $o, roleId: $r) }',
        variables: ({ orgId }) => ({ o: orgId, r: NOBODY }),
        attack: {
          query: 'mutation($o: ID!, $r: ID!) { deleteRole(orgId: $o, roleId: $r) }',
          variables: ({ orgId }) => ({ o: orgId, r: f.a.roleId }),
        },
      },
      'Mutation.createProject': {
        rest: 'POST /organizations/:orgId/projects',
        query: 'mutation($o: ID!) { createProject(orgId: $o, input: { name: "   " }) { id } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Mutation.updateProject': {
        rest: 'PATCH /organizations/:orgId/projects/:projectId',
        query:
          'mutation($o: ID!, $p: ID!) { updateProject(orgId: $o, projectId: $p, input: { name: "Renamed" }) { id } }',
        variables: ({ orgId }) => ({ o: orgId, p: NOBODY }),
        attack: {
          query:
            'mutation($o: ID!, $p: ID!) { updateProject(orgId: $o, projectId: $p, input: { name: "Hijacked" }) { id } }',
          variables: ({ orgId }) => ({ o: orgId, p: f.a.objects.projectId }),
        },
      },
      'Mutation.deleteProject': {
        rest: 'DELETE /organizations/:orgId/projects/:projectId',
        query: 'mutation($o: ID!, $p: ID!) { deleteProject(orgId: $o, projectId: $p) }',
        variables: ({ orgId }) => ({ o: orgId, p: NOBODY }),
        attack: {
          query: 'mutation($o: ID!, $p: ID!) { deleteProject(orgId: $o, projectId: $p) }',
          variables: ({ orgId }) => ({ o: orgId, p: f.a.objects.projectId }),
        },
      },
      'Mutation.inviteMember': {
        rest: 'POST /organizations/:orgId/invitations',
        query: 'mutation($o: ID!) { inviteMember(orgId: $o, input: { email: "not-an-email" }) { id } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Mutation.revokeInvitation': {
        rest: 'DELETE /organizations/:orgId/invitations/:invitationId',
        query: 'mutation($o: ID!, $i: ID!) { revokeInvitation(orgId: $o, invitationId: $i) }',
        variables: ({ orgId }) => ({ o: orgId, i: NOBODY }),
        attack: {
          query: 'mutation($o: ID!, $i: ID!) { revokeInvitation(orgId: $o, invitationId: $i) }',
          variables: ({ orgId }) => ({ o: orgId, i: f.a.invitationId }),
        },
      },
      'Mutation.resendInvitation': {
        rest: 'POST /organizations/:orgId/invitations/:invitationId/resend',
        query: 'mutation($o: ID!, $i: ID!) { resendInvitation(orgId: $o, invitationId: $i) { id } }',
        variables: ({ orgId }) => ({ o: orgId, i: NOBODY }),
        attack: {
          query: 'mutation($o: ID!, $i: ID!) { resendInvitation(orgId: $o, invitationId: $i) { id } }',
          variables: ({ orgId }) => ({ o: orgId, i: f.a.invitationId }),
        },
      },
      'Mutation.createApiKey': {
        rest: 'POST /organizations/:orgId/api-keys',
        query: 'mutation($o: ID!) { createApiKey(orgId: $o, input: { name: "   ", permissions: [] }) { key } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Mutation.revokeApiKey': {
        rest: 'DELETE /organizations/:orgId/api-keys/:apiKeyId',
        query: 'mutation($o: ID!, $k: ID!) { revokeApiKey(orgId: $o, apiKeyId: $k) }',
        variables: ({ orgId }) => ({ o: orgId, k: NOBODY }),
        attack: {
          query: 'mutation($o: ID!, $k: ID!) { revokeApiKey(orgId: $o, apiKeyId: $k) }',
          variables: ({ orgId }) => ({ o: orgId, k: f.a.apiKey.id }),
        },
      },
      'Mutation.createTeam': {
        rest: 'POST /organizations/:orgId/teams',
        query: 'mutation($o: ID!) { createTeam(orgId: $o, input: { name: "   " }) { id } }',
        variables: ({ orgId }) => ({ o: orgId }),
      },
      'Mutation.updateTeam': {
        rest: 'PUT /organizations/:orgId/teams/:teamId',
        query: 'mutation($o: ID!, $t: ID!) { updateTeam(orgId: $o, teamId: $t, input: { name: "   " }) { id } }',
        variables: ({ orgId, teamId }) => ({ o: orgId, t: teamId }),
        attack: {
          query: 'mutation($o: ID!, $t: ID!) { updateTeam(orgId: $o, teamId: $t, input: { name: "Hijacked" }) { id } }',
          variables: ({ orgId, teamId }) => ({ o: orgId, t: teamId }),
        },
      },
      'Mutation.deleteTeam': {
        rest: 'DELETE /organizations/:orgId/teams/:teamId',
        query: 'mutation($o: ID!, $t: ID!) { deleteTeam(orgId: $o, teamId: $t) }',
        variables: ({ orgId }) => ({ o: orgId, t: NOBODY }),
        attack: {
          query: 'mutation($o: ID!, $t: ID!) { deleteTeam(orgId: $o, teamId: $t) }',
          variables: ({ orgId, teamId }) => ({ o: orgId, t: teamId }),
        },
      },
    };
    const gql = async (
      token: string,
      operation: Omit<Operation, 'rest' | 'attack'>,
      ids: { orgId: string; teamId: string },
    ) => {
      const res = await t.inject({
        method: 'POST',
        url: '/graphql',
        headers: bearer(token),
        payload: { query: operation.query, variables: operation.variables(ids) },
      });
      const body = res.json<{ errors?: Array<{ extensions: { code?: string } }> }>();
      return { status: res.statusCode, codes: (body.errors ?? []).map((error) => error.extensions.code) };
    };

    it('covers every GraphQL field that names a permission', () => {
      const schema = t.app.get(GraphQLSchemaHost).schema;
      const fields = Object.values(schema.getTypeMap()).flatMap((type) =>
        isObjectType(type) && !type.name.startsWith('__')
          ? Object.values(type.getFields())
              .filter((field) => /^Needs /.test(field.description ?? ''))
              .map((field) => `${type.name}.${field.name}`)
          : [],
      );
      expect(fields.sort()).toEqual(Object.keys(OPERATIONS).sort());
      for (const operation of Object.values(OPERATIONS)) expect(EXPECTED[operation.rest]).toBeDefined();
    });

    it('gives FORBIDDEN to the roles without the permission, passes the others, and NOT_FOUND to outsiders', async () => {
      const mismatches: string[] = [];
      const ids = { orgId: f.a.orgId, teamId: f.a.teamId };
      for (const [name, operation] of Object.entries(OPERATIONS)) {
        const outsider = await gql(f.outsider.tokens.access_token, operation, ids);
        if (outsider.codes.join() !== 'NOT_FOUND') mismatches.push(`${name} outsider -> ${outsider.codes.join()}`);
        const allowed = (EXPECTED[operation.rest] ?? '').split(' ');
        for (const role of ROLE_ORDER) {
          const { status, codes } = await gql(f.a.users[role].tokens.access_token, operation, ids);
          const passed = !codes.includes('FORBIDDEN');
          if (status >= 500 || codes.some((code) => code === 'UNAUTHENTICATED' || code === 'INTERNAL_SERVER_ERROR'))
            mismatches.push(`${name} ${role} -> ${status} ${codes.join()}`);
          else if (passed !== allowed.includes(role))
            mismatches.push(
              `${name} ${role} -> ${codes.join() || 'ok'} (expected ${allowed.includes(role) ? 'pass' : 'FORBIDDEN'})`,
            );
        }
      }
      expect(mismatches).toEqual([]);
    });

    it("refuses B's owner and B's API key every operation on A's ids, directly or through B's organization", async () => {
      const mismatches: string[] = [];
      for (const [name, listed] of Object.entries(OPERATIONS)) {
        const operation = listed.attack ?? listed;
        for (const [who, token] of [
          ['owner', f.b.users.owner.tokens.access_token],
          ['key', f.b.apiKey.key],
        ] as const) {
          const direct = await gql(token, operation, { orgId: f.a.orgId, teamId: f.a.teamId });
          if (direct.codes.join() !== 'NOT_FOUND') mismatches.push(`${name} B ${who} in A -> ${direct.codes.join()}`);
          // Through B's own organization (the guard passes) with A's team: the lookup must not find it.
          // Any operation naming an object besides its organization: that object of A's, through B's organization.
          if (Object.keys(operation.variables({ orgId: f.b.orgId, teamId: f.a.teamId })).length > 1) {
            const nested = await gql(token, operation, { orgId: f.b.orgId, teamId: f.a.teamId });
            // The key of B lacks nothing a key may hold, but a key cannot create teams (403 is fine there).
            if (nested.codes.join() !== 'NOT_FOUND' && !(who === 'key' && nested.codes.join() === 'FORBIDDEN'))
              mismatches.push(`${name} B ${who} via B -> ${nested.codes.join()}`);
          }
        }
      }
      expect(mismatches).toEqual([]);
      const owner = f.a.users.owner.tokens.access_token;
      const base = `/organizations/${f.a.orgId}`;
      expect((await send(owner, 'GET', `${base}/roles/${f.a.roleId}`)).json()).toMatchObject({ name: 'auditor' });
      expect((await send(owner, 'GET', `${base}/invitations/${f.a.invitationId}`)).json()).toMatchObject({
        status: 'pending',
      });
      expect((await send(owner, 'GET', `${base}/api-keys/${f.a.apiKey.id}`)).json()).toMatchObject({
        status: 'active',
      });
      expect((await send(owner, 'GET', `${base}/projects/${f.a.objects.projectId}`)).statusCode).toBe(200);
      expect((await send(owner, 'GET', `${base}/members`)).json()).toMatchObject({ total: 7 });
      const team = await send(
        f.a.users.owner.tokens.access_token,
        'GET',
        `/organizations/${f.a.orgId}/teams/${f.a.teamId}`,
      );
      expect(team.json()).toMatchObject({ name: 'Core' });
    });
  });

  describe('role × endpoint: each system role passes exactly the routes it should', () => {
    it('lists every organization route in the expected matrix', () => {
      const organizationRoutes = routes.filter((route) => route.params.includes('orgId')).map(key);
      expect(organizationRoutes.filter((route) => !(route in EXPECTED))).toEqual([]);
      expect(Object.keys(EXPECTED).filter((route) => !organizationRoutes.includes(route))).toEqual([]);
    });

    it('gives 403 to the roles without the permission, passes the others, and 404 to outsiders', async () => {
      const organizationRoutes = routes
        .filter((route) => route.params.includes('orgId'))
        // Destructive routes on the fixture's own team and organization go last.
        .sort(
          (x, y) =>
            Number(x.method === 'DELETE' && !x.params.includes('userId')) -
            Number(y.method === 'DELETE' && !y.params.includes('userId')),
        )
        .sort(
          (x, y) =>
            Number(key(x) === 'DELETE /organizations/:orgId') - Number(key(y) === 'DELETE /organizations/:orgId'),
        );
      const ids = {
        orgId: f.a.orgId,
        teamId: f.a.teamId,
        userId: NOBODY,
        roleId: NOBODY,
        invitationId: NOBODY,
        apiKeyId: NOBODY,
        llmJobId: NOBODY,
        exportId: NOBODY,
        ...f.a.objects,
      };
      const mismatches: string[] = [];
      for (const route of organizationRoutes) {
        const path = fillPath(route, ids);
        const outsider = await send(f.outsider.tokens.access_token, route.method, path, {});
        if (outsider.statusCode !== 404) mismatches.push(`${key(route)} outsider -> ${outsider.statusCode}`);
        const allowed = (EXPECTED[key(route)] ?? '').split(' ');
        for (const role of ROLE_ORDER) {
          const res = STREAMING.has(key(route))
            ? await streamStatus(f.a.users[role].tokens.access_token, path)
            : await send(f.a.users[role].tokens.access_token, route.method, path, {});
          const passed = res.statusCode !== 403;
          if (res.statusCode === 401 || res.statusCode >= 500)
            mismatches.push(`${key(route)} ${role} -> ${res.statusCode}`);
          else if (passed !== allowed.includes(role)) {
            mismatches.push(
              `${key(route)} ${role} -> ${res.statusCode} (expected ${allowed.includes(role) ? 'pass' : '403'})`,
            );
          }
        }
      }
      expect(mismatches).toEqual([]);
    });
  });
});
