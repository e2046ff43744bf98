import { AuditLog, TenantTransaction } from '@app/database';
import { SYSTEM_ROLES } from '@app/rbac';
import {
  bearer,
  createTestApp,
  CREDENTIAL_COLUMNS,
  joinByInvitation,
  login,
  recordStatements,
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

  it('reads no credential column of an account to show it (user list, profiles, members, changed accounts)', async () => {
    const owner = await registerAndLogin(t, 'u-columns');
    const mate = await registerAndLogin(t, 'u-columns-mate');
    const orgId = (await call(owner, 'POST', '/organizations', { name: 'Columns' })).json<{ id: string }>().id;
    await joinByInvitation(t, owner, orgId, mate);
    const teamId = (await call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'T' })).json<{ id: string }>()
      .id;
    const reads: Array<[Account, Method, string, object?]> = [
      [admin, 'GET', '/users?pageSize=100'],
      [admin, 'GET', `/users/${owner.userId}`],
      [mate, 'GET', `/users/${owner.userId}`],
      [owner, 'GET', `/organizations/${orgId}/members`],
      // Answers with the member as the list describes them.
      [owner, 'PUT', `/organizations/${orgId}/members/${mate.userId}/roles`, { roleIds: [SYSTEM_ROLES.viewer.id] }],
      [owner, 'GET', `/organizations/${orgId}/teams/${teamId}/members`],
      // Answers with the changed profile.
      [owner, 'PUT', '/users/me', { fullName: 'Columns Owner' }],
    ];
    for (const [as, method, url, payload] of reads) {
      const requestId = `columns-${Math.random().toString(36).slice(2)}`;
      let status = 0;
      const statements = await recordStatements(
        t.dataSource,
        async () =>
          (status = (
            await t.inject({
              method,
              url: `/api/v1${url}`,
              headers: { ...bearer(as.tokens.access_token), 'x-request-id': requestId },
              payload,
            })
          ).statusCode),
        requestId,
      );
      expect([url, status]).toEqual([url, 200]);
      expect(statements.some((sql) => /\busers\b/.test(sql))).toBe(true);
      expect([url, statements.filter((sql) => CREDENTIAL_COLUMNS.test(sql))]).toEqual([url, []]);
    }
  });

  it('grants and revokes platform admin at once, keeps the last one, and refuses non-admins', async () => {
    const helper = await registerAndLogin(t, 'helper');
    expect((await call(first, 'POST', `/users/${helper.userId}/platform-admin`)).statusCode).toBe(403);
    expect((await call(helper, 'GET', '/users')).statusCode).toBe(403);
    const requestId = `grant-${Math.random().toString(36).slice(2)}`;
    let answered: Awaited<ReturnType<typeof call>> | undefined;
    const statements = await recordStatements(
      t.dataSource,
      async () =>
        (answered = await t.inject({
          method: 'POST',
          url: `/api/v1/users/${helper.userId}/platform-admin`,
          headers: { ...bearer(admin.tokens.access_token), 'x-request-id': requestId },
        })),
      requestId,
    );
    // The answer (the account whose flag changed) is built without its credential columns.
    expect(statements.some((sql) => /\busers\b/.test(sql))).toBe(true);
    expect(statements.filter((sql) => CREDENTIAL_COLUMNS.test(sql))).toEqual([]);
    const granted = answered!;
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

  it('never leaves an organization without an active owner, and reactivates without reviving credentials', async () => {
    const founder = await registerAndLogin(t, 'founder');
    const mate = await registerAndLogin(t, 'founder-mate');
    const stranger = await registerAndLogin(t, 'founder-stranger');
    const orgId = (await call(founder, 'POST', '/organizations', { name: 'Solo Owner Co' })).json<{ id: string }>().id;
    await joinByInvitation(t, founder, orgId, mate);
    const key = await call(founder, 'POST', `/organizations/${orgId}/api-keys`, {
      name: 'ci',
      permissions: ['teams:read'],
    });
    expect(key.statusCode).toBe(201);
    // The last owner: refused, naming the organization; nothing changed.
    const refused = await call(admin, 'DELETE', `/users/${founder.userId}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      type: '/problems/last-owner',
      organizations: [{ id: orgId, name: 'Solo Owner Co' }],
    });
    expect((await call(founder, 'GET', '/users/me')).statusCode).toBe(200);
    // A successor who is not a member there is refused too.
    const notMember = await call(admin, 'DELETE', `/users/${founder.userId}?successorId=${stranger.userId}`);
    expect(notMember.statusCode).toBe(409);
    expect(notMember.json<{ type: string }>().type).toBe('/problems/successor-not-member');
    expect((await call(founder, 'GET', '/users/me')).statusCode).toBe(200);
    // With a member as successor: they become owner in the same step.
    expect((await call(admin, 'DELETE', `/users/${founder.userId}?successorId=${mate.userId}`)).statusCode).toBe(204);
    const members = (await call(mate, 'GET', `/organizations/${orgId}/members`)).json<{
      items: Array<{ userId: string; roles: Array<{ id: string }> }>;
    }>();
    expect(members.items.find((m) => m.userId === mate.userId)?.roles.map((r) => r.id)).toContain(
      SYSTEM_ROLES.owner.id,
    );
    const succession = (await audit('organization.owner.succession')).filter((row) => row.organizationId === orgId);
    expect(succession).toEqual([
      expect.objectContaining({
        actorId: admin.userId,
        targetId: mate.userId,
        metadata: expect.objectContaining({ from: founder.userId }) as unknown,
      }),
    ]);
    // The deactivated owner no longer counts as one: the successor cannot step down and leave nobody.
    const demote = await call(mate, 'PUT', `/organizations/${orgId}/members/${mate.userId}/roles`, {
      roleIds: [SYSTEM_ROLES.member.id],
    });
    expect(demote.statusCode).toBe(409);
    expect(demote.json<{ type: string }>().type).toBe('/problems/last-owner');

    // Reactivation: platform admins only, audited; sign-in works again, old sessions and keys stay dead.
    expect((await call(first, 'POST', `/users/${founder.userId}/reactivate`)).statusCode).toBe(403);
    const requestId = `reactivate-${Math.random().toString(36).slice(2)}`;
    let back: Awaited<ReturnType<typeof call>> | undefined;
    const statements = await recordStatements(
      t.dataSource,
      async () =>
        (back = await t.inject({
          method: 'POST',
          url: `/api/v1/users/${founder.userId}/reactivate`,
          headers: { ...bearer(admin.tokens.access_token), 'x-request-id': requestId },
        })),
      requestId,
    );
    // The answer (the account as platform admins see it) is built without its credential columns.
    expect(statements.some((sql) => /\busers\b/.test(sql))).toBe(true);
    expect(statements.filter((sql) => CREDENTIAL_COLUMNS.test(sql))).toEqual([]);
    expect(back?.statusCode).toBe(200);
    expect(back?.json()).toMatchObject({ isActive: true });
    expect((await call(founder, 'GET', '/users/me')).statusCode).toBe(401);
    const oldKey = await t.inject({
      method: 'GET',
      url: `/api/v1/organizations/${orgId}/teams`,
      headers: { 'x-api-key': key.json<{ key: string }>().key },
    });
    expect(oldKey.statusCode).toBe(401);
    const relogin = await login(t, founder.email);
    expect(relogin.statusCode).toBe(200);
    const token = relogin.json<Tokens>().access_token;
    const teams = await t.inject({
      method: 'GET',
      url: `/api/v1/organizations/${orgId}/teams`,
      headers: bearer(token),
    });
    expect(teams.statusCode).toBe(200);
    expect(await audit('user.reactivate')).toEqual([
      expect.objectContaining({ actorId: admin.userId, targetId: founder.userId }),
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
