import { AuditLog, TenantTransaction } from '@app/database';
import { SYSTEM_ROLES } from '@app/rbac';
import {
  bearer,
  createTestApp,
  joinByInvitation,
  login,
  register,
  registerAndLogin,
  startSmtpSink,
  tokenFromMail,
  uniqueEmail,
  type SmtpSink,
  type TestApp,
  type Tokens,
} from '@app/testing';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

describe('users and platform admins', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  const bootstrapEmail = uniqueEmail('boot-admin');
  let first: Account;
  let admin: Account;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, BOOTSTRAP_ADMIN_EMAIL: bootstrapEmail.toUpperCase() } });
    first = await registerAndLogin(t, 'first-user');
    await register(t, bootstrapEmail, undefined, 'Boot Admin');
    const res = await login(t, bootstrapEmail);
    admin = { email: bootstrapEmail, userId: '', tokens: res.json<Tokens>() };
    admin.userId = (await call(admin, 'GET', '/users/me')).json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  function call(as: Account, method: Method, url: string, payload?: object) {
    return t.inject({ method, url: `/api/v1${url}`, headers: bearer(as.tokens.access_token), payload });
  }
  const audit = (action: string) =>
    t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { action }, order: { occurredAt: 'ASC' } }));

  it('never makes the first registrant an admin; BOOTSTRAP_ADMIN_EMAIL becomes one once verified', async () => {
    const refused = await call(first, 'GET', '/users');
    expect(refused.statusCode).toBe(403);
    expect(refused.json<{ type: string }>().type).toBe('/problems/platform-admin-required');
    expect((await call(first, 'GET', '/users/me')).json()).toMatchObject({ isPlatformAdmin: false });
    // Registered but unverified: not yet (anyone can register any address).
    expect((await call(admin, 'GET', '/users')).statusCode).toBe(403);
    const token = await tokenFromMail(smtp, bootstrapEmail, /Confirm your email/);
    expect((await t.inject({ method: 'POST', url: '/api/v1/auth/verify-email', payload: { token } })).statusCode).toBe(
      200,
    );
    expect((await call(admin, 'GET', '/users/me')).json()).toMatchObject({ isPlatformAdmin: true });
    expect((await call(admin, 'GET', '/users')).statusCode).toBe(200);
    expect((await audit('platform-admin.grant')).map((row) => row.metadata)).toEqual([{ via: 'bootstrap' }]);
  });

  it('lists and searches users for platform admins, with literal matching of % and _', async () => {
    const searched = await registerAndLogin(t, 'needle_x');
    const res = await call(admin, 'GET', `/users?q=${encodeURIComponent('NEEDLE_X')}&pageSize=5`);
    expect(res.statusCode).toBe(200);
    const page = res.json<{ items: Array<Record<string, unknown>>; total: number; pageSize: number }>();
    expect(page).toMatchObject({ total: 1, pageSize: 5 });
    expect(page.items[0]).toMatchObject({ id: searched.userId, isActive: true, isPlatformAdmin: false });
    expect(JSON.stringify(page)).not.toMatch(/passwordHash|totp|recovery/i);
    expect((await call(admin, 'GET', '/users?q=%25')).json()).toMatchObject({ total: 0 });
    expect((await call(admin, 'GET', '/users?q=needle%5Fx')).json()).toMatchObject({ total: 1 });
    expect((await call(admin, 'GET', '/users?pageSize=1000')).statusCode).toBe(400);
    const all = await call(admin, 'GET', '/users?pageSize=100');
    expect(all.json<{ total: number }>().total).toBeGreaterThanOrEqual(3);
  });

  it('shows a user to themself, to platform admins, and a limited profile to organization mates only', async () => {
    const owner = await registerAndLogin(t, 'u-owner');
    const mate = await registerAndLogin(t, 'u-mate');
    const stranger = await registerAndLogin(t, 'u-stranger');
    const org = await call(owner, 'POST', '/organizations', { name: 'Profiles' });
    const orgId = org.json<{ id: string }>().id;
    await joinByInvitation(t, owner, orgId, mate);

    expect((await call(mate, 'GET', `/users/${mate.userId}`)).json()).toMatchObject({
      email: mate.email,
      mfaEnabled: false,
    });
    const limited = await call(mate, 'GET', `/users/${owner.userId}`);
    expect(limited.statusCode).toBe(200);
    expect(Object.keys(limited.json<object>()).sort()).toEqual(['email', 'fullName', 'id']);
    expect((await call(stranger, 'GET', `/users/${owner.userId}`)).statusCode).toBe(404);
    expect((await call(stranger, 'GET', `/users/0195d2a0-7b1c-7c3e-8a4b-1234567890ab`)).statusCode).toBe(404);
    expect((await call(stranger, 'GET', '/users/not-a-uuid')).statusCode).toBe(400);
    expect((await call(admin, 'GET', `/users/${owner.userId}`)).json()).toMatchObject({ isActive: true });
  });

  it('grants and revokes platform admin at once, keeps the last one, and refuses non-admins', async () => {
    const helper = await registerAndLogin(t, 'helper');
    expect((await call(first, 'POST', `/users/${helper.userId}/platform-admin`)).statusCode).toBe(403);
    expect((await call(helper, 'GET', '/users')).statusCode).toBe(403);
    const granted = await call(admin, 'POST', `/users/${helper.userId}/platform-admin`);
    expect(granted.statusCode).toBe(200);
    expect(granted.json()).toMatchObject({ isPlatformAdmin: true });
    expect((await call(helper, 'GET', '/users')).statusCode).toBe(200);
    // The helper revokes the bootstrap admin, then cannot revoke themself: the last one stays.
    expect((await call(helper, 'DELETE', `/users/${admin.userId}/platform-admin`)).statusCode).toBe(200);
    expect((await call(admin, 'GET', '/users')).statusCode).toBe(403);
    const last = await call(helper, 'DELETE', `/users/${helper.userId}/platform-admin`);
    expect(last.statusCode).toBe(409);
    expect(last.json<{ type: string }>().type).toBe('/problems/last-platform-admin');
    expect((await call(helper, 'POST', `/users/${admin.userId}/platform-admin`)).statusCode).toBe(200);
    expect((await call(admin, 'GET', '/users')).statusCode).toBe(200);
    const revocations = await audit('platform-admin.revoke');
    expect(revocations).toEqual([expect.objectContaining({ actorId: helper.userId, targetId: admin.userId })]);
    expect((await call(admin, 'POST', '/users/0195d2a0-7b1c-7c3e-8a4b-1234567890ab/platform-admin')).statusCode).toBe(
      404,
    );
  });

  it('deactivates a user: sessions end at once and sign-in is refused; not yourself, not by non-admins', async () => {
    const leaving = await registerAndLogin(t, 'leaving');
    expect((await call(first, 'DELETE', `/users/${leaving.userId}`)).statusCode).toBe(403);
    expect((await call(leaving, 'GET', '/users/me')).statusCode).toBe(200);
    expect((await call(admin, 'DELETE', `/users/${leaving.userId}`)).statusCode).toBe(204);
    expect((await call(leaving, 'GET', '/users/me')).statusCode).toBe(401);
    expect((await login(t, leaving.email)).statusCode).toBe(401);
    const refresh = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: leaving.tokens.refresh_token },
    });
    expect(refresh.statusCode).toBe(401);
    expect((await call(admin, 'GET', `/users/${leaving.userId}`)).json()).toMatchObject({ isActive: false });
    expect((await call(admin, 'DELETE', `/users/${leaving.userId}`)).statusCode).toBe(204);
    const self = await call(admin, 'DELETE', `/users/${admin.userId}`);
    expect(self.statusCode).toBe(409);
    expect(self.json<{ type: string }>().type).toBe('/problems/cannot-deactivate-self');
    expect(await audit('user.deactivate')).toEqual([
      expect.objectContaining({ actorId: admin.userId, targetId: leaving.userId }),
    ]);
  });

  it('lets platform admins read any organization, audited, but never change it', async () => {
    const owner = await registerAndLogin(t, 'pa-owner');
    const outsider = await registerAndLogin(t, 'pa-outsider');
    const orgId = (await call(owner, 'POST', '/organizations', { name: 'Watched' })).json<{ id: string }>().id;
    expect((await call(outsider, 'GET', `/organizations/${orgId}/members`)).statusCode).toBe(404);
    const read = await call(admin, 'GET', `/organizations/${orgId}/members`);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ total: 1 });
    expect((await call(admin, 'PUT', `/organizations/${orgId}`, { name: 'Taken over' })).statusCode).toBe(404);
    expect(
      (
        await call(admin, 'POST', `/organizations/${orgId}/members`, {
          userId: admin.userId,
          roleIds: [SYSTEM_ROLES.owner.id],
        })
      ).statusCode,
    ).toBe(404);
    const accesses = (await audit('platform-admin.access')).filter((row) => row.organizationId === orgId);
    expect(accesses).toEqual([
      expect.objectContaining({
        actorId: admin.userId,
        metadata: expect.objectContaining({ method: 'GET', route: '/api/v1/organizations/:orgId/members' }) as object,
      }),
    ]);
  });
});
