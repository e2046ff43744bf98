import { newId } from '@app/common';
import { OAuthAccount, TenantTransaction } from '@app/database';
import { SYSTEM_ROLES } from '@app/rbac';
import {
  bearer,
  createTestApp,
  joinByInvitation,
  login,
  register,
  registerAndLogin,
  STRONG_PASSWORD,
  type TestApp,
  type Tokens,
} from '@app/testing';

interface Account {
  email: string;
  userId: string;
  tokens: Tokens;
}

describe('Erasing your own account', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const call = (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    t.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
  const sidOf = (token: string) =>
    (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sid: string }).sid;

  async function organization(owner: Account, name: string): Promise<string> {
    const res = await call(owner.tokens.access_token, 'POST', '/organizations', { name });
    expect(res.statusCode).toBe(201);
    return res.json<{ id: string }>().id;
  }

  it('leaves every organization, keeps only a pseudonym, and the audit chains still verify', async () => {
    const ann = await registerAndLogin(t, 'erase-ann');
    const bob = await registerAndLogin(t, 'erase-bob');
    const carol = await registerAndLogin(t, 'erase-carol');
    const shared = await organization(bob, 'Shared');
    await joinByInvitation(t, bob, shared, ann, [SYSTEM_ROLES.admin.id]);
    // Ann co-owns another organization with Carol: not the last owner there.
    const coOwned = await organization(ann, 'Co-owned');
    await joinByInvitation(t, ann, coOwned, carol, [SYSTEM_ROLES.owner.id]);
    const key = await call(ann.tokens.access_token, 'POST', `/organizations/${shared}/api-keys`, {
      name: 'ann robot',
      permissions: ['teams:read'],
    });
    expect(key.statusCode).toBe(201);
    const apiKey = key.json<{ key: string }>().key;
    await t.app.get(TenantTransaction).runAsSystem((manager) =>
      manager.insert(OAuthAccount, {
        id: newId(),
        userId: ann.userId,
        provider: 'github',
        providerAccountId: `erase-${ann.userId}`,
        email: ann.email,
        emailVerified: true,
        lastUsedAt: null,
      }),
    );
    // An invitation to Ann's address, still pending, in a third organization.
    const third = await organization(carol, 'Third');
    expect(
      (await call(carol.tokens.access_token, 'POST', `/organizations/${third}/invitations`, { email: ann.email }))
        .statusCode,
    ).toBe(201);

    const res = await call(ann.tokens.access_token, 'DELETE', '/users/me');
    expect(res.statusCode).toBe(204);

    expect((await call(ann.tokens.access_token, 'GET', '/users/me')).statusCode).toBe(401);
    expect((await login(t, ann.email)).statusCode).toBe(401);
    expect(
      (
        await t.inject({
          method: 'GET',
          url: `/api/v1/organizations/${shared}/teams`,
          headers: { 'x-api-key': apiKey },
        })
      ).statusCode,
    ).toBe(401);
    const [user] = await t.dataSource.query<Array<Record<string, unknown>>>(
      'SELECT email, full_name, password_hash, is_active, erased_at FROM users WHERE id = $1',
      [ann.userId],
    );
    expect(user).toMatchObject({
      email: `erased-${ann.userId}@erased.invalid`,
      full_name: null,
      password_hash: null,
      is_active: false,
    });
    expect(user?.erased_at).not.toBeNull();
    const left = await t.dataSource.query<unknown[]>(
      `SELECT 'member' FROM organization_members WHERE user_id = $1
       UNION ALL SELECT 'role' FROM role_assignments WHERE user_id = $1
       UNION ALL SELECT 'identity' FROM oauth_accounts WHERE user_id = $1
       UNION ALL SELECT 'invitation' FROM invitations WHERE lower(email) = lower($2)
       UNION ALL SELECT 'session' FROM sessions WHERE user_id = $1 AND revoked_at IS NULL`,
      [ann.userId, ann.email],
    );
    expect(left).toEqual([]);
    const origins = await t.dataSource.query<unknown[]>(
      'SELECT 1 FROM sessions WHERE user_id = $1 AND (ip IS NOT NULL OR user_agent IS NOT NULL)',
      [ann.userId],
    );
    expect(origins).toEqual([]);

    // Every audit row about Ann keeps its event and loses its personal data.
    const rows = await t.dataSource.query<Array<{ action: string; ip: string | null; metadata: object }>>(
      `SELECT action, ip, metadata FROM audit_logs WHERE actor_id = $1 OR target_id = $2`,
      [ann.userId, ann.userId],
    );
    expect(rows.map((row) => row.action)).toEqual(expect.arrayContaining(['auth.login', 'member.leave', 'user.erase']));
    for (const row of rows) expect(row).toMatchObject({ ip: null, metadata: {} });
    for (const [owner, org] of [
      [bob, shared],
      [carol, coOwned],
    ] as const) {
      const verified = await call(owner.tokens.access_token, 'GET', `/organizations/${org}/audit-logs/verify`);
      expect(verified.json()).toMatchObject({ valid: true });
    }
    // The others in the organization see a member who left.
    const members = await call(bob.tokens.access_token, 'GET', `/organizations/${shared}/members`);
    expect(JSON.stringify(members.json())).not.toContain(ann.userId);

    // The address is free again.
    const again = await register(t, ann.email);
    expect(again.id).not.toBe(ann.userId);
  });

  it('is refused while you are the last owner, naming each organization, and erases nothing', async () => {
    const dave = await registerAndLogin(t, 'erase-dave');
    const mine = await organization(dave, 'Dave Works');
    await organization(dave, 'Dave Labs');
    const res = await call(dave.tokens.access_token, 'DELETE', '/users/me');
    expect(res.statusCode).toBe(409);
    const body = res.json<{ type: string; detail: string; organizations: Array<{ id: string; name: string }> }>();
    expect(body.type).toBe('/problems/last-owner');
    expect(body.detail).toContain('"Dave Works"');
    expect(body.detail).toContain('"Dave Labs"');
    expect(body.organizations.map((org) => org.id)).toContain(mine);
    expect((await call(dave.tokens.access_token, 'GET', '/users/me')).json()).toMatchObject({ email: dave.email });
    expect((await call(dave.tokens.access_token, 'GET', `/organizations/${mine}`)).statusCode).toBe(200);
  });

  it('needs a recent sign-in or step-up, and audits the refusal', async () => {
    const erin = await registerAndLogin(t, 'erase-eve');
    await t.dataSource.query(`UPDATE sessions SET verified_at = now() - interval '1 hour' WHERE id = $1`, [
      sidOf(erin.tokens.access_token),
    ]);
    const stale = await call(erin.tokens.access_token, 'DELETE', '/users/me');
    expect(stale.statusCode).toBe(403);
    expect(stale.json()).toMatchObject({ type: '/problems/step-up-required' });
    const rows = await t.dataSource.query<Array<{ outcome: string }>>(
      `SELECT outcome FROM audit_logs WHERE action = 'user.erase' AND actor_id = $1`,
      [erin.userId],
    );
    expect(rows).toEqual([{ outcome: 'failure' }]);
    expect(
      (await call(erin.tokens.access_token, 'POST', '/auth/step-up', { password: STRONG_PASSWORD })).statusCode,
    ).toBe(200);
    expect((await call(erin.tokens.access_token, 'DELETE', '/users/me')).statusCode).toBe(204);
    // Gone: a second erasure finds no account (the token is refused first).
    expect((await call(erin.tokens.access_token, 'DELETE', '/users/me')).statusCode).toBe(401);
  });
});
