import { SYSTEM_ROLES } from '@app/rbac';
import { bearer, createTestApp, joinByInvitation, registerAndLogin, type TestApp } from '@app/testing';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;

interface GraphqlAnswer {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: string[]; extensions: Record<string, unknown> }>;
}

describe('GraphQL: the same authentication, permissions and tenancy as REST', () => {
  let t: TestApp;
  let owner: Account;
  let orgId: string;

  const gql = async (as: Account | undefined, query: string, variables?: Record<string, unknown>) => {
    const res = await t.inject({
      method: 'POST',
      url: '/graphql',
      headers: as ? bearer(as.tokens.access_token) : {},
      payload: { query, variables },
    });
    return { status: res.statusCode, body: res.json<GraphqlAnswer>() };
  };

  beforeAll(async () => {
    t = await createTestApp();
    owner = await registerAndLogin(t, 'gql-owner');
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(owner.tokens.access_token),
      payload: { name: 'Graph Inc' },
    });
    orgId = res.json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers the viewer and their organizations', async () => {
    const { status, body } = await gql(
      owner,
      '{ viewer { id email organizations { totalCount edges { node { id name } } } } }',
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      viewer: {
        id: owner.userId,
        email: owner.email,
        organizations: { totalCount: 1, edges: [{ node: { id: orgId, name: 'Graph Inc' } }] },
      },
    });
  });

  it('creates a team and reads it with its members', async () => {
    const created = await gql(
      owner,
      'mutation($o: ID!) { createTeam(orgId: $o, input: { name: "Core" }) { id name slug } }',
      {
        o: orgId,
      },
    );
    expect(created.body.errors).toBeUndefined();
    const teamId = (created.body.data?.createTeam as { id: string }).id;
    const { body } = await gql(
      owner,
      'query($o: ID!) { organization(orgId: $o) { name teams(first: 10) { totalCount edges { node { id name members { email roles { name } } } } } } }',
      { o: orgId },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      organization: {
        name: 'Graph Inc',
        teams: {
          totalCount: 1,
          edges: [
            { node: { id: teamId, name: 'Core', members: [{ email: owner.email, roles: [{ name: 'team-admin' }] }] } },
          ],
        },
      },
    });
  });

  it('refuses the unauthenticated, the outsider and the member without the permission', async () => {
    const anonymous = await gql(undefined, '{ viewer { id } }');
    expect(anonymous.body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');

    const outsider = await registerAndLogin(t, 'gql-outsider');
    const probe = await gql(outsider, 'query($o: ID!) { organization(orgId: $o) { name } }', { o: orgId });
    expect(probe.body.errors?.[0]?.extensions.code).toBe('NOT_FOUND');

    const viewer = await registerAndLogin(t, 'gql-viewer');
    await joinByInvitation(t, owner, orgId, viewer, [SYSTEM_ROLES.viewer.id]);
    const denied = await gql(viewer, 'mutation($o: ID!) { createTeam(orgId: $o, input: { name: "No" }) { id } }', {
      o: orgId,
    });
    expect(denied.body.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      missingPermissions: ['teams:create'],
    });
  });
});
