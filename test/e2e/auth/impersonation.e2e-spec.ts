import { AccessTokenService } from '@app/auth';
import {
  bearer,
  createTestApp,
  registerAndLogin,
  setPlatformAdmin,
  STRONG_PASSWORD,
  type TestApp,
  type Tokens,
} from '@app/testing';

interface Account {
  email: string;
  userId: string;
  tokens: Tokens;
}

interface Impersonation {
  access_token: string;
  session_id: string;
  user_id: string;
  write: boolean;
  expires_at: string;
  expires_in: number;
}

const REASON = 'Ticket 4521: cannot see the Core team';

describe('Impersonation by platform admins', () => {
  let t: TestApp;
  let admin: Account;
  let otherAdmin: Account;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await registerAndLogin(t, 'imp-admin');
    otherAdmin = await registerAndLogin(t, 'imp-admin2');
    await setPlatformAdmin(t, admin.userId);
    await setPlatformAdmin(t, otherAdmin.userId);
  });
  afterAll(async () => {
    await t.close();
  });

  const call = (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    t.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });

  async function customer(label: string): Promise<Account & { orgId: string }> {
    const account = await registerAndLogin(t, label);
    const org = await call(account.tokens.access_token, 'POST', '/organizations', { name: `Org ${label}` });
    expect(org.statusCode).toBe(201);
    return { ...account, orgId: org.json<{ id: string }>().id };
  }

  async function impersonate(userId: string, extra: object = {}, by: Account = admin): Promise<Impersonation> {
    const res = await call(by.tokens.access_token, 'POST', '/admin/impersonations', {
      userId,
      reason: REASON,
      ...extra,
    });
    expect({ status: res.statusCode, body: res.json<unknown>() }).toMatchObject({ status: 201 });
    return res.json<Impersonation>();
  }

  const claimsOf = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;

  async function auditRows(action: string, targetId: string) {
    return t.dataSource.query<
      Array<{ actor_id: string; outcome: string; metadata: Record<string, unknown>; impersonator_id: string | null }>
    >(
      'SELECT actor_id, outcome, metadata, impersonator_id FROM audit_logs WHERE action = $1 AND target_id::text = $2 ORDER BY id',
      [action, targetId],
    );
  }

  it('acts as the person, read-only, with act naming the admin, visible to the person', async () => {
    const ann = await customer('imp-ann');
    const imp = await impersonate(ann.userId);
    expect(imp).toMatchObject({ user_id: ann.userId, write: false });
    expect(claimsOf(imp.access_token)).toMatchObject({ sub: ann.userId, act: { sub: admin.userId } });
    const expiresIn = new Date(imp.expires_at).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(14 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(15 * 60_000);

    const me = await call(imp.access_token, 'GET', '/users/me');
    expect(me.json()).toMatchObject({ id: ann.userId });
    expect((await call(imp.access_token, 'GET', `/organizations/${ann.orgId}/teams`)).statusCode).toBe(200);

    const write = await call(imp.access_token, 'POST', `/organizations/${ann.orgId}/teams`, { name: 'Nope' });
    expect(write.statusCode).toBe(403);
    expect(write.json()).toMatchObject({ type: '/problems/impersonation-read-only' });
    const graphql = await t.inject({
      method: 'POST',
      url: '/graphql',
      headers: bearer(imp.access_token),
      payload: { query: `mutation { createTeam(orgId: "${ann.orgId}", input: { name: "Nope" }) { id } }` },
    });
    expect(graphql.body).toMatch(/impersonation-read-only|read-only/);
    const teams = await t.dataSource.query<unknown[]>('SELECT 1 FROM teams WHERE organization_id = $1', [ann.orgId]);
    expect(teams).toHaveLength(0);
    const refused = await auditRows('auth.impersonation.refused', ann.userId);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[0]?.metadata).toMatchObject({ reason: 'impersonation-read-only' });
    expect(refused[0]?.impersonator_id).toBe(admin.userId);

    const sessions = await call(ann.tokens.access_token, 'GET', '/auth/sessions');
    const shown = sessions.json<Array<{ id: string; impersonation: unknown }>>().find((s) => s.id === imp.session_id);
    expect(shown?.impersonation).toEqual({
      by: { id: admin.userId, email: admin.email },
      reason: REASON,
      write: false,
    });
    const [started] = await auditRows('admin.impersonation.start', ann.userId);
    expect(started).toMatchObject({ actor_id: admin.userId, outcome: 'success' });
    expect(started?.metadata).toMatchObject({ reason: REASON, write: false, minutes: 15, sessionId: imp.session_id });

    const history = await call(ann.tokens.access_token, 'GET', '/users/me/security-events');
    expect(history.json<{ items: Array<{ action: string }> }>().items.map((row) => row.action)).toContain(
      'admin.impersonation.start',
    );

    // The person ends it like any session of theirs.
    expect((await call(ann.tokens.access_token, 'DELETE', `/auth/sessions/${imp.session_id}`)).statusCode).toBe(204);
    expect((await call(imp.access_token, 'GET', '/users/me')).statusCode).toBe(401);
  });

  it('writes when asked, every row naming the admin, but never touches credentials, factors or keys', async () => {
    const bob = await customer('imp-bob');
    const imp = await impersonate(bob.userId, { write: true, minutes: 5 });
    const team = await call(imp.access_token, 'POST', `/organizations/${bob.orgId}/teams`, { name: 'Fixed' });
    expect({ status: team.statusCode, body: team.json<unknown>() }).toMatchObject({ status: 201 });
    const [row] = await t.dataSource.query<Array<{ actor_id: string; impersonator_id: string }>>(
      `SELECT actor_id, impersonator_id FROM audit_logs WHERE action = 'team.create' AND organization_id = $1`,
      [bob.orgId],
    );
    expect(row).toEqual({ actor_id: bob.userId, impersonator_id: admin.userId });

    const forbidden: Array<[string, 'GET' | 'POST' | 'PUT' | 'DELETE', string, object?]> = [
      [
        'password',
        'PUT',
        '/users/me/password',
        { currentPassword: STRONG_PASSWORD, newPassword: 'Another-Long-Pass-9123' },
      ],
      ['totp', 'POST', '/auth/mfa/totp/setup', { password: STRONG_PASSWORD }],
      ['passkey', 'POST', '/auth/passkeys/registration/options', {}],
      ['passkeys list', 'GET', '/auth/passkeys'],
      ['step-up', 'POST', '/auth/step-up', { password: STRONG_PASSWORD }],
      ['other sessions', 'DELETE', '/auth/sessions'],
      ['api key', 'POST', `/organizations/${bob.orgId}/api-keys`, { name: 'k', permissions: ['teams:read'] }],
      ['nested', 'POST', '/admin/impersonations', { userId: bob.userId, reason: REASON }],
      ['erase account', 'DELETE', '/users/me'],
      ['scim token', 'POST', `/organizations/${bob.orgId}/scim/tokens`, { name: 'idp' }],
      ['sso connection', 'POST', `/organizations/${bob.orgId}/sso/connections`, { name: 'x' }],
      ['domain', 'POST', `/organizations/${bob.orgId}/domains`, { domain: 'example.com' }],
      ['webhook', 'POST', `/organizations/${bob.orgId}/webhooks/endpoints`, { url: 'https://hooks.example.com/x' }],
      ['export', 'POST', '/users/me/export'],
    ];
    for (const [what, method, url, payload] of forbidden) {
      const res = await call(imp.access_token, method, url, payload);
      expect({ what, status: res.statusCode, type: res.json<{ type?: string }>().type }).toEqual({
        what,
        status: 403,
        type: '/problems/impersonation-not-allowed',
      });
    }
    const [user] = await t.dataSource.query<Array<{ password_hash: string }>>(
      'SELECT password_hash FROM users WHERE id = $1',
      [bob.userId],
    );
    const keys = await t.dataSource.query<unknown[]>('SELECT 1 FROM api_keys WHERE organization_id = $1', [bob.orgId]);
    expect(keys).toHaveLength(0);
    expect(user?.password_hash).toBeTruthy();
    // Signing out is allowed, and ends it.
    expect((await call(imp.access_token, 'POST', '/auth/logout', {})).statusCode).toBe(204);
    expect((await call(imp.access_token, 'GET', '/users/me')).statusCode).toBe(401);
  });

  it('refuses admins, deactivated accounts, yourself, non-admins, stale admins and bad input, and audits it', async () => {
    const carol = await customer('imp-carol');
    const start = (by: Account, body: object) => call(by.tokens.access_token, 'POST', '/admin/impersonations', body);
    const adminTarget = await start(admin, { userId: otherAdmin.userId, reason: REASON });
    expect(adminTarget.statusCode).toBe(403);
    expect(adminTarget.json()).toMatchObject({ type: '/problems/cannot-impersonate-admin' });
    expect((await start(admin, { userId: admin.userId, reason: REASON })).statusCode).toBe(409);
    expect((await start(carol, { userId: otherAdmin.userId, reason: REASON })).statusCode).toBe(403);
    const short = await start(admin, { userId: carol.userId, reason: 'because' });
    expect(short.statusCode).toBe(400);
    expect(short.json()).toMatchObject({ errors: [{ field: 'reason' }] });
    const long = await start(admin, { userId: carol.userId, reason: REASON, minutes: 61 });
    expect(long.json()).toMatchObject({ type: '/problems/impersonation-too-long' });
    expect((await start(admin, { userId: '01a00000-0000-7000-8000-000000000000', reason: REASON })).statusCode).toBe(
      404,
    );

    const dave = await customer('imp-dave');
    await t.dataSource.query('UPDATE users SET is_active = false WHERE id = $1', [dave.userId]);
    const deactivated = await start(admin, { userId: dave.userId, reason: REASON });
    expect(deactivated.json()).toMatchObject({ type: '/problems/user-deactivated' });

    // The admin's own sign-in is stale: step up first.
    await t.dataSource.query(`UPDATE sessions SET verified_at = now() - interval '1 hour' WHERE id = $1`, [
      (claimsOf(admin.tokens.access_token) as { sid: string }).sid,
    ]);
    const stale = await start(admin, { userId: carol.userId, reason: REASON });
    expect(stale.json()).toMatchObject({ type: '/problems/step-up-required' });
    expect(
      (await call(admin.tokens.access_token, 'POST', '/auth/step-up', { password: STRONG_PASSWORD })).statusCode,
    ).toBe(200);
    expect((await start(admin, { userId: carol.userId, reason: REASON })).statusCode).toBe(201);

    const failures = (await auditRows('admin.impersonation.start', otherAdmin.userId)).filter(
      (row) => row.outcome === 'failure',
    );
    expect(failures[0]?.metadata).toMatchObject({ reason: 'admin' });
  });

  it('needs the token and the session to agree on the actor', async () => {
    const eve = await customer('imp-eve');
    const imp = await impersonate(eve.userId);
    const tokens = t.app.get(AccessTokenService);
    // A plain token for the impersonation session, and an act claim on a plain session: both refused.
    const noActor = tokens.sign(eve.userId, imp.session_id);
    const erinSession = (claimsOf(eve.tokens.access_token) as { sid: string }).sid;
    const madeUp = tokens.signImpersonation(eve.userId, erinSession, admin.userId, 300);
    expect((await call(noActor, 'GET', '/users/me')).statusCode).toBe(401);
    expect((await call(madeUp, 'GET', '/users/me')).statusCode).toBe(401);
    expect((await call(imp.access_token, 'GET', '/users/me')).statusCode).toBe(200);
  });

  it('gives a new token only to the admin who started it, and ends with the admin flag', async () => {
    const fay = await customer('imp-fay');
    const imp = await impersonate(fay.userId, {}, otherAdmin);
    const renewed = await call(otherAdmin.tokens.access_token, 'POST', `/admin/impersonations/${imp.session_id}/token`);
    expect(renewed.statusCode).toBe(200);
    expect(renewed.json()).toMatchObject({ session_id: imp.session_id });
    expect(
      (await call(admin.tokens.access_token, 'POST', `/admin/impersonations/${imp.session_id}/token`)).statusCode,
    ).toBe(404);
    // Revoking otherAdmin's flag ends what they opened at once.
    const revoke = await call(admin.tokens.access_token, 'DELETE', `/users/${otherAdmin.userId}/platform-admin`);
    expect(revoke.statusCode).toBeLessThan(300);
    expect((await call(imp.access_token, 'GET', '/users/me')).statusCode).toBe(401);
    await setPlatformAdmin(t, otherAdmin.userId);

    // Any admin may end an impersonation; a session that is not one is a 404.
    const again = await impersonate(fay.userId);
    expect(
      (await call(admin.tokens.access_token, 'DELETE', `/admin/impersonations/${again.session_id}`)).statusCode,
    ).toBe(204);
    expect((await call(again.access_token, 'GET', '/users/me')).statusCode).toBe(401);
    const plain = (claimsOf(fay.tokens.access_token) as { sid: string }).sid;
    expect((await call(admin.tokens.access_token, 'DELETE', `/admin/impersonations/${plain}`)).statusCode).toBe(404);
  });
});
