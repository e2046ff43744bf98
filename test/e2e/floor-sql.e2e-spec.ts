import { openUnitOfWorkSql } from '@app/database';
import { bearer, createTestApp, recordStatements, registerAndLogin, type TestApp } from '@app/testing';
import { TEAM_COUNT_SQL, TEAM_PAGE_SQL, TEAM_SQL } from '../../apps/api/src/teams/team-page-sql';
import { OWN_PROFILE_SQL } from '../../apps/api/src/users/own-profile-sql';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;

/**
 * The bench measures GET /users/me and the teams list against bare Fastify + pg running their SQL
 * (bench/floors.js imports the same texts). These tests hold the api to those texts: if a route's
 * statements change and the shared constants do not, the floor would run other work, and this fails.
 */
describe('the statements the bench floors run are the routes’ own', () => {
  let t: TestApp;
  let owner: Account;
  let orgId: string;

  beforeAll(async () => {
    t = await createTestApp();
    owner = await registerAndLogin(t, 'floor-sql');
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(owner.tokens.access_token),
      payload: { name: 'Floors' },
    });
    orgId = res.json<{ id: string }>().id;
    for (const name of ['Alpha', 'Beta', 'Gamma']) {
      const team = await t.inject({
        method: 'POST',
        url: `/api/v1/organizations/${orgId}/teams`,
        headers: bearer(owner.tokens.access_token),
        payload: { name },
      });
      expect(team.statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  /** The statements a warm request sends on its own behalf, and its answer. */
  async function warmRequest(url: string) {
    const get = (requestId?: string) =>
      t.inject({
        method: 'GET',
        url,
        headers: { ...bearer(owner.tokens.access_token), ...(requestId ? { 'x-request-id': requestId } : {}) },
      });
    expect((await get()).statusCode).toBe(200);
    const requestId = `floor-${Math.random().toString(36).slice(2)}`;
    let answer: Awaited<ReturnType<typeof get>> | undefined;
    const statements = await recordStatements(t.dataSource, async () => (answer = await get(requestId)), requestId);
    expect(answer?.statusCode).toBe(200);
    return { statements, body: answer!.json<{ items?: Array<Record<string, unknown>> } & Record<string, unknown>>() };
  }

  it('GET /users/me: the opening statement, OWN_PROFILE_SQL, COMMIT', async () => {
    const { statements, body } = await warmRequest('/api/v1/users/me');
    expect(statements).toEqual([openUnitOfWorkSql({ organizationId: null, system: true }), OWN_PROFILE_SQL, 'COMMIT']);
    expect(body).toMatchObject({ id: owner.userId, emailVerified: expect.any(Boolean) as unknown });
  });

  it('GET /organizations/:orgId/teams: the tenant opening, TEAM_PAGE_SQL, COMMIT; the page as before', async () => {
    const { statements, body } = await warmRequest(`/api/v1/organizations/${orgId}/teams`);
    expect(statements).toEqual([openUnitOfWorkSql({ organizationId: orgId, system: false }), TEAM_PAGE_SQL, 'COMMIT']);
    expect(body).toEqual({
      items: ['Alpha', 'Beta', 'Gamma'].map(
        (name): unknown =>
          expect.objectContaining({
            name,
            organizationId: orgId,
            description: null,
            createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
          }) as unknown,
      ),
      total: 3,
      page: 1,
      pageSize: 20,
    });
    expect(Object.keys(body.items?.[0] ?? {}).sort()).toEqual(
      ['createdAt', 'description', 'id', 'name', 'organizationId', 'slug'].sort(),
    );
  });

  it('GET /organizations/:orgId/teams/:teamId: the tenant opening, TEAM_SQL, COMMIT; TeamDto’s fields', async () => {
    const listed = await warmRequest(`/api/v1/organizations/${orgId}/teams`);
    const first = listed.body.items?.[0] as { id: string };
    const { statements, body } = await warmRequest(`/api/v1/organizations/${orgId}/teams/${first.id}`);
    expect(statements).toEqual([openUnitOfWorkSql({ organizationId: orgId, system: false }), TEAM_SQL, 'COMMIT']);
    expect(body).toEqual(first);
  });

  it('a page past the last team still says how many there are (one count more)', async () => {
    const { statements, body } = await warmRequest(`/api/v1/organizations/${orgId}/teams?page=3&pageSize=2`);
    expect(statements).toEqual([
      openUnitOfWorkSql({ organizationId: orgId, system: false }),
      TEAM_PAGE_SQL,
      TEAM_COUNT_SQL,
      'COMMIT',
    ]);
    expect(body).toEqual({ items: [], total: 3, page: 3, pageSize: 2 });
    const second = await warmRequest(`/api/v1/organizations/${orgId}/teams?page=2&pageSize=2`);
    expect(second.body).toMatchObject({ items: [expect.objectContaining({ name: 'Gamma' })], total: 3 });
  });

  it('an organization without teams: one statement, a total of 0', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(owner.tokens.access_token),
      payload: { name: 'Empty' },
    });
    const emptyOrg = res.json<{ id: string }>().id;
    const { statements, body } = await warmRequest(`/api/v1/organizations/${emptyOrg}/teams`);
    expect(statements).toEqual([
      openUnitOfWorkSql({ organizationId: emptyOrg, system: false }),
      TEAM_PAGE_SQL,
      'COMMIT',
    ]);
    expect(body).toEqual({ items: [], total: 0, page: 1, pageSize: 20 });
  });

  it('GraphQL: a page after the last team has no edges and still the total', async () => {
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await t.inject({
        method: 'POST',
        url: '/graphql',
        headers: bearer(owner.tokens.access_token),
        payload: { query, variables },
      });
      expect(res.statusCode).toBe(200);
      const answer = res.json<{ data?: { organization: { teams: Record<string, unknown> } }; errors?: unknown }>();
      expect(answer.errors).toBeUndefined();
      return answer.data!.organization.teams;
    };
    const all = await gql('query($o: ID!) { organization(orgId: $o) { teams(first: 3) { edges { cursor } } } }', {
      o: orgId,
    });
    const edges = all.edges as Array<{ cursor: string }>;
    expect(edges).toHaveLength(3);
    const after = await gql(
      'query($o: ID!, $a: String) { organization(orgId: $o) { teams(first: 2, after: $a) { totalCount edges { node { name } } pageInfo { hasNextPage hasPreviousPage } } } }',
      { o: orgId, a: edges[2]?.cursor },
    );
    expect(after).toEqual({ totalCount: 3, edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: true } });
  });
});
