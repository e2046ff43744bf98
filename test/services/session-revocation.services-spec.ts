import {
  bearer,
  joinByInvitation,
  createTestApp,
  login,
  registerAndLogin,
  setPlatformAdmin,
  STRONG_PASSWORD,
  type TestApp,
  type Tokens,
} from '@app/testing';

/** Two api replicas sharing PostgreSQL and Redis: a revocation on one is honoured by the other at once. */
describe('session revocation across replicas', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await createTestApp({ redis: true });
    b = await createTestApp({ redis: true, replicaOf: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const me = (app: TestApp, token: string) =>
    app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

  it('logout on replica A kills the token on replica B, which had it cached', async () => {
    const { tokens } = await registerAndLogin(a, 'replica');
    // B has seen the session, so its cache says "active".
    expect((await me(b, tokens.access_token)).statusCode).toBe(200);
    expect(
      (
        await a.inject({
          method: 'POST',
          url: '/api/v1/auth/logout',
          headers: bearer(tokens.access_token),
          payload: {},
        })
      ).statusCode,
    ).toBe(204);
    await settle();
    expect((await me(b, tokens.access_token)).statusCode).toBe(401);
    expect((await me(a, tokens.access_token)).statusCode).toBe(401);
  });

  it('a password change on A ends the other sessions on B', async () => {
    const { email, tokens } = await registerAndLogin(a, 'replica-pw');
    const other = (await login(b, email)).json<Tokens>();
    expect((await me(b, other.access_token)).statusCode).toBe(200);
    const res = await a.inject({
      method: 'PUT',
      url: '/api/v1/users/me/password',
      headers: bearer(tokens.access_token),
      payload: { currentPassword: STRONG_PASSWORD, newPassword: 'Orchid-Lantern-Ferry-6620' },
    });
    expect(res.statusCode).toBe(204);
    await settle();
    expect((await me(b, other.access_token)).statusCode).toBe(401);
    expect((await me(b, tokens.access_token)).statusCode).toBe(200);
  });

  it('revoking an API key on A refuses it on B at once', async () => {
    const owner = await registerAndLogin(a, 'replica-keys');
    const orgId = (
      await a.inject({
        method: 'POST',
        url: '/api/v1/organizations',
        headers: bearer(owner.tokens.access_token),
        payload: { name: 'Replicated' },
      })
    ).json<{ id: string }>().id;
    const created = await a.inject({
      method: 'POST',
      url: `/api/v1/organizations/${orgId}/api-keys`,
      headers: bearer(owner.tokens.access_token),
      payload: { name: 'replicated', permissions: ['teams:read'] },
    });
    const { id, key } = created.json<{ id: string; key: string }>();
    const teams = (app: TestApp) =>
      app.inject({ method: 'GET', url: `/api/v1/organizations/${orgId}/teams`, headers: { 'x-api-key': key } });
    expect((await teams(b)).statusCode).toBe(200);
    const revoke = await a.inject({
      method: 'DELETE',
      url: `/api/v1/organizations/${orgId}/api-keys/${id}`,
      headers: bearer(owner.tokens.access_token),
    });
    expect(revoke.statusCode).toBe(204);
    await settle();
    expect((await teams(b)).statusCode).toBe(401);
  });

  it("deactivating a key's creator on A refuses the key on B at once, and on a replica started afterwards", async () => {
    const owner = await registerAndLogin(a, 'replica-deactivated');
    const orgId = (
      await a.inject({
        method: 'POST',
        url: '/api/v1/organizations',
        headers: bearer(owner.tokens.access_token),
        payload: { name: 'Departing' },
      })
    ).json<{ id: string }>().id;
    const { key } = (
      await a.inject({
        method: 'POST',
        url: `/api/v1/organizations/${orgId}/api-keys`,
        headers: bearer(owner.tokens.access_token),
        payload: { name: 'departing', permissions: ['members:read'] },
      })
    ).json<{ key: string }>();
    const members = (app: TestApp) =>
      app.inject({ method: 'GET', url: `/api/v1/organizations/${orgId}/members`, headers: { 'x-api-key': key } });
    expect((await members(b)).statusCode).toBe(200);
    const operator = await registerAndLogin(a, 'replica-operator');
    await setPlatformAdmin(a, operator.userId);
    // The owner is the organization's only one: a member takes it over in the same step.
    const successor = await registerAndLogin(a, 'replica-successor');
    await joinByInvitation(a, owner, orgId, successor);
    const deactivate = await a.inject({
      method: 'DELETE',
      url: `/api/v1/users/${owner.userId}?successorId=${successor.userId}`,
      headers: bearer(operator.tokens.access_token),
    });
    expect(deactivate.statusCode).toBe(204);
    await settle();
    expect((await members(b)).statusCode).toBe(401);
    expect((await members(a)).statusCode).toBe(401);
    // A restart (a replica that never saw the message) reads the truth from the database.
    const c = await createTestApp({ redis: true, replicaOf: a });
    try {
      expect((await members(c)).statusCode).toBe(401);
    } finally {
      await c.close();
    }
  });
});
