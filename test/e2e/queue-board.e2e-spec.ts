import { bearer, createTestApp, registerAndLogin, setPlatformAdmin, type TestApp } from '@app/testing';

/** Without Redis there is no queue to show: the dashboard says so instead of pretending. */
describe('queue dashboard without Redis', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 404 problem+json for the board and its session, 403 to non-admins', async () => {
    const admin = await registerAndLogin(t, 'board-admin');
    const someone = await registerAndLogin(t, 'board-someone');
    await setPlatformAdmin(t, admin.userId);
    const session = (account: typeof admin) =>
      t.inject({ method: 'POST', url: '/api/v1/admin/queues/session', headers: bearer(account.tokens.access_token) });
    expect((await session(someone)).statusCode).toBe(403);
    const refused = await session(admin);
    expect(refused.statusCode).toBe(404);
    expect(refused.headers['set-cookie']).toBeUndefined();
    for (const url of ['/admin/queues', '/admin/queues/api/queues']) {
      const res = await t.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ type: '/problems/queue-board-unavailable' });
    }
  });
});
