import { SYSTEM_ROLES } from '@app/rbac';
import { bearer, createTestApp, joinByInvitation, registerAndLogin, type TestApp } from '@app/testing';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
interface GraphqlAnswer {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: string[]; extensions: Record<string, unknown> }>;
}

/** GraphQL on PostgreSQL and Redis, two replicas: real concurrent connections, a shared rate limit. */
describe('GraphQL on PostgreSQL and Redis', () => {
  let a: TestApp;
  let b: TestApp;
  let alice: Account;
  let bob: Account;
  let orgA: string;
  let orgB: string;

  const urls = new Map<TestApp, string>();
  /** Over HTTP, with fetch: a client's request as it arrives, through a real socket. */
  const gql = async (app: TestApp, as: Account, query: string, variables?: Record<string, unknown>) => {
    const res = await fetch(`${urls.get(app)}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(as.tokens.access_token) },
      body: JSON.stringify({ query, variables }),
    });
    return { res, body: (await res.json()) as GraphqlAnswer };
  };
  const rest = (as: Account, url: string, payload: object) =>
    a.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(as.tokens.access_token), payload });

  beforeAll(async () => {
    a = await createTestApp({
      redis: true,
      env: {
        RATE_LIMIT_PER_MINUTE: '200',
        GRAPHQL_COST_PER_REQUEST: '100',
        // Exact counts in the headers across replicas (leases: rate-limit.services-spec).
        RATE_LIMIT_LEASE: '0',
      },
    });
    b = await createTestApp({
      redis: true,
      replicaOf: a,
      env: {
        RATE_LIMIT_PER_MINUTE: '200',
        GRAPHQL_COST_PER_REQUEST: '100',
        // Exact counts in the headers across replicas (leases: rate-limit.services-spec).
        RATE_LIMIT_LEASE: '0',
      },
    });
    for (const app of [a, b]) {
      await app.app.listen({ port: 0, host: '127.0.0.1' });
      urls.set(app, await app.app.getUrl());
    }
    alice = await registerAndLogin(a, 'gql-svc-alice');
    bob = await registerAndLogin(a, 'gql-svc-bob');
    orgA = (await rest(alice, '/organizations', { name: 'Alpha' })).json<{ id: string }>().id;
    orgB = (await rest(bob, '/organizations', { name: 'Beta' })).json<{ id: string }>().id;
    for (const name of ['A1', 'A2', 'A3']) await rest(alice, `/organizations/${orgA}/teams`, { name });
    for (const name of ['B1', 'B2']) await rest(bob, `/organizations/${orgB}/teams`, { name });
    // Alice is a viewer in Beta: she may read it, not change it.
    await joinByInvitation(a, bob, orgB, alice, [SYSTEM_ROLES.viewer.id]);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('resolves sibling fields of two organizations at once, each in its own tenant and with its own roles', async () => {
    const query = `query($a: ID!, $b: ID!) {
      alpha: organization(orgId: $a) { name teams(first: 10) { totalCount edges { node { name members { email } } } } }
      beta: organization(orgId: $b) { name teams(first: 10) { totalCount edges { node { name } } } }
      make: organization(orgId: $b) { team(teamId: "00000000-0000-7000-8000-000000000000") { id } }
    }`;
    for (let round = 0; round < 5; round += 1) {
      const { body } = await gql(round % 2 ? b : a, alice, query, { a: orgA, b: orgB });
      expect(body.data?.alpha).toMatchObject({ name: 'Alpha', teams: { totalCount: 3 } });
      expect(body.data?.beta).toMatchObject({ name: 'Beta', teams: { totalCount: 2 } });
      const alphaTeams = (body.data?.alpha as { teams: { edges: Array<{ node: { name: string } }> } }).teams.edges;
      expect(alphaTeams.map((edge) => edge.node.name)).toEqual(['A1', 'A2', 'A3']);
      expect(body.errors?.map((error) => [error.path?.join('.'), error.extensions.code])).toEqual([
        ['make.team', 'NOT_FOUND'],
      ]);
    }
    const refused = await gql(b, alice, 'mutation($b: ID!) { createTeam(orgId: $b, input: { name: "X" }) { id } }', {
      b: orgB,
    });
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      missingPermissions: ['teams:create'],
    });
    const probe = await gql(a, bob, 'query($a: ID!) { organization(orgId: $a) { name } }', { a: orgA });
    expect(probe.body.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
  });

  it('counts the cost of operations against one rate limit shared by the replicas', async () => {
    const query = '{ viewer { organizations(first: 20) { edges { node { id name slug createdAt } } } } }';
    const first = await gql(a, bob, query);
    const second = await gql(b, bob, query);
    // cost 10 + 10 + 20 × (1 + 1 + 4) = 140: two requests' worth each, counted in Redis by both replicas.
    const remaining = (res: Response) => Number(res.headers.get('ratelimit-remaining'));
    expect(remaining(first.res) - remaining(second.res)).toBe(2);
  });
});
