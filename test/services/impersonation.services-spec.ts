import { bearer, createTestApp, registerAndLogin, setPlatformAdmin, type TestApp } from '@app/testing';

/**
 * On PostgreSQL and Redis, two replicas: an impersonation started on A is served by B, and ends on
 * B the moment A revokes the admin's flag (the session registry's invalidation through Redis).
 */
describe('Impersonation across replicas', () => {
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

  it('is served by B, read-only, and ends on B when A revokes the admin', async () => {
    expect(a.config.database.kind).toBe('postgres');
    const admin = await registerAndLogin(a, 'imp-svc-admin');
    const other = await registerAndLogin(a, 'imp-svc-other');
    const person = await registerAndLogin(a, 'imp-svc-person');
    await setPlatformAdmin(a, admin.userId);
    await setPlatformAdmin(a, other.userId);
    await setPlatformAdmin(b, admin.userId);
    const started = await a.inject({
      method: 'POST',
      url: '/api/v1/admin/impersonations',
      headers: bearer(admin.tokens.access_token),
      payload: { userId: person.userId, reason: 'Services test: replica behaviour' },
    });
    expect(started.statusCode).toBe(201);
    const token = started.json<{ access_token: string }>().access_token;
    const me = await b.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) });
    expect(me.json()).toMatchObject({ id: person.userId });
    const write = await b.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(token),
      payload: { name: 'Not allowed' },
    });
    expect(write.json()).toMatchObject({ type: '/problems/impersonation-read-only' });

    const revoke = await a.inject({
      method: 'DELETE',
      url: `/api/v1/users/${admin.userId}/platform-admin`,
      headers: bearer(other.tokens.access_token),
    });
    expect(revoke.statusCode).toBeLessThan(300);
    const sid = started.json<{ session_id: string }>().session_id;
    expect(await a.dataSource.query('SELECT revoked_reason FROM sessions WHERE id = $1', [sid])).toEqual([
      { revoked_reason: 'admin_revoked' },
    ]);
    // B hears of it through Redis pub/sub, a few milliseconds after A has answered.
    let status = 200;
    for (let i = 0; i < 40 && status !== 401; i += 1) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await b.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) })).statusCode;
    }
    expect(status).toBe(401);
  });
});
