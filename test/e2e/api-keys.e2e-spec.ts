import { ApiKeyRegistry } from '@app/auth';
import { createAppLogger } from '@app/common';
import { AuditLog, TenantTransaction } from '@app/database';
import { SYSTEM_ROLES } from '@app/rbac';
import {
  bearer,
  createTestApp,
  readsOf,
  SHOWN_ONLY,
  joinByInvitation,
  registerAndLogin,
  setPlatformAdmin,
  type TestApp,
} from '@app/testing';
import { Writable } from 'node:stream';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  permissions: string[];
}

const KEY_FORMAT = /^sak_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/;

describe('API keys', () => {
  let t: TestApp;
  let owner: Account;
  let orgId: string;
  let logs = '';

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs += chunk.toString();
        done();
      },
    });
    t = await createTestApp({ logger: createAppLogger('debug', 'api', sink) });
    owner = await registerAndLogin(t, 'key-owner');
    orgId = (await call(owner, 'POST', '/organizations', { name: 'Keyed' })).json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
  });

  function call(as: Account, method: Method, url: string, payload?: object) {
    return t.inject({ method, url: `/api/v1${url}`, headers: bearer(as.tokens.access_token), payload });
  }
  const withKey = (
    key: string,
    method: Method,
    url: string,
    payload?: object,
    header: 'bearer' | 'x-api-key' = 'bearer',
  ) =>
    t.inject({
      method,
      url: `/api/v1${url}`,
      headers: header === 'bearer' ? bearer(key) : { 'x-api-key': key },
      payload,
    });
  async function createKey(as: Account, permissions: string[], extra: object = {}, org = orgId): Promise<CreatedKey> {
    const res = await call(as, 'POST', `/organizations/${org}/api-keys`, { name: 'robot', permissions, ...extra });
    expect(res.statusCode).toBe(201);
    return res.json<CreatedKey>();
  }
  async function joinAs(label: string, roleId: string): Promise<Account> {
    const account = await registerAndLogin(t, label);
    await joinByInvitation(t, owner, orgId, account, [roleId]);
    return account;
  }

  it('creates a key shown once, lists it without the secret, and the key works with either header', async () => {
    const created = await createKey(owner, ['teams:read', 'teams:create']);
    expect(created.key).toMatch(KEY_FORMAT);
    expect(created.key.startsWith(`${created.prefix}_`)).toBe(true);
    expect(created).toMatchObject({ status: 'active', permissions: ['teams:read', 'teams:create'], expiresAt: null });

    const list = await call(owner, 'GET', `/organizations/${orgId}/api-keys`);
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(created.key.slice(21));
    expect(list.body).not.toMatch(/keyHash|"key"/);
    // Showing a key list reads none of its credential columns (nor anyone else's).
    expect(await readsOf(t, `/api/v1/organizations/${orgId}/api-keys`, owner.tokens.access_token, 'api_keys')).toEqual(
      SHOWN_ONLY,
    );
    expect(
      await readsOf(t, `/api/v1/organizations/${orgId}/api-keys/${created.id}`, owner.tokens.access_token, 'api_keys'),
    ).toEqual(SHOWN_ONLY);
    const one = await call(owner, 'GET', `/organizations/${orgId}/api-keys/${created.id}`);
    expect(Object.keys(one.json<object>())).not.toContain('key');

    expect((await withKey(created.key, 'GET', `/organizations/${orgId}/teams`)).statusCode).toBe(200);
    expect(
      (await withKey(created.key, 'GET', `/organizations/${orgId}/teams`, undefined, 'x-api-key')).statusCode,
    ).toBe(200);
    const team = await withKey(created.key, 'POST', `/organizations/${orgId}/teams`, { name: 'Made by a robot' });
    expect(team.statusCode).toBe(201);
    const teamId = team.json<{ id: string }>().id;
    // A key is nobody: it does not join the team it created.
    expect((await call(owner, 'GET', `/organizations/${orgId}/teams/${teamId}/members`)).json()).toEqual([]);
    const rows = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { action: 'team.create', targetId: teamId } }));
    expect(rows).toEqual([expect.objectContaining({ actorType: 'api_key', actorId: created.id })]);

    // Neither the key nor its secret half ever reaches the logs.
    expect(logs).toContain('request received');
    expect(logs).not.toContain(created.key);
    expect(logs).not.toContain(created.key.slice(21));
  });

  it('confines a key to its permissions, its organization and organization routes', async () => {
    const { key } = await createKey(owner, ['teams:read']);
    const denied = await withKey(key, 'PUT', `/organizations/${orgId}`, { name: 'Renamed by key' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({
      type: '/problems/permission-denied',
      missingPermissions: ['organizations:update'],
    });
    const otherOrg = (await call(owner, 'POST', '/organizations', { name: 'Other' })).json<{ id: string }>().id;
    expect((await withKey(key, 'GET', `/organizations/${otherOrg}/teams`)).statusCode).toBe(404);
    for (const [method, url] of [
      ['GET', '/users/me'],
      ['GET', '/organizations'],
      ['POST', '/organizations'],
      ['GET', '/auth/sessions'],
      ['GET', '/invitations'],
      ['GET', '/users'],
    ] as const) {
      const res = await withKey(key, method, url, method === 'POST' ? { name: 'x' } : undefined);
      expect({ url, status: res.statusCode, type: res.json<{ type: string }>().type }).toEqual({
        url,
        status: 403,
        type: '/problems/api-key-not-allowed',
      });
    }
  });

  it('refuses malformed, unknown, revoked and expired keys with 401', async () => {
    const { key, id } = await createKey(owner, ['teams:read']);
    const url = `/organizations/${orgId}/teams`;
    expect((await withKey(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`, 'GET', url)).statusCode).toBe(401);
    expect((await withKey('sak_0000000000000000_' + 'x'.repeat(43), 'GET', url)).statusCode).toBe(401);
    expect((await withKey('sak_nonsense', 'GET', url)).statusCode).toBe(401);
    expect((await withKey(key, 'GET', url)).statusCode).toBe(200);
    expect((await call(owner, 'DELETE', `/organizations/${orgId}/api-keys/${id}`)).statusCode).toBe(204);
    expect((await withKey(key, 'GET', url)).statusCode).toBe(401);
    expect((await call(owner, 'DELETE', `/organizations/${orgId}/api-keys/${id}`)).statusCode).toBe(204);
    expect((await call(owner, 'GET', `/organizations/${orgId}/api-keys/${id}`)).json()).toMatchObject({
      status: 'revoked',
    });

    const soon = await createKey(owner, ['teams:read'], { expiresAt: new Date(Date.now() + 1500).toISOString() });
    expect((await withKey(soon.key, 'GET', url)).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect((await withKey(soon.key, 'GET', url)).statusCode).toBe(401);
    expect((await call(owner, 'GET', `/organizations/${orgId}/api-keys/${soon.id}`)).json()).toMatchObject({
      status: 'expired',
    });
  });

  it('validates creation: catalogue, people-only permissions, expiry, and what the creator holds', async () => {
    const post = (as: Account, body: object) => call(as, 'POST', `/organizations/${orgId}/api-keys`, body);
    const bad = await post(owner, { name: '', permissions: ['nope:nope', 'members:invite'], expiresAt: 'tomorrow' });
    expect(bad.statusCode).toBe(400);
    const messages = bad.json<{ errors: Array<{ field: string; message: string }> }>().errors;
    expect(messages.map((e) => e.field)).toEqual(expect.arrayContaining(['name', 'expiresAt']));
    const unknown = await post(owner, { name: 'k', permissions: ['nope:nope', 'members:invite'] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json<{ errors: Array<{ message: string }> }>().errors.map((e) => e.message)).toEqual([
      'nope:nope is not a permission',
      'members:invite manages access and is for people only, not API keys',
    ]);
    const past = await post(owner, { name: 'k', permissions: ['teams:read'], expiresAt: '2001-01-01T00:00:00Z' });
    expect(past.statusCode).toBe(400);
    expect((await post(owner, { name: 'k', permissions: [] })).statusCode).toBe(400);

    const member = await joinAs('key-member', SYSTEM_ROLES.member.id);
    expect((await post(member, { name: 'k', permissions: ['teams:read'] })).statusCode).toBe(403);
    // A custom role that may create keys but holds little: its keys hold no more.
    const role = await call(owner, 'POST', `/organizations/${orgId}/roles`, {
      name: 'key-maker',
      scope: 'organization',
      permissions: ['api-keys:create', 'teams:read'],
    });
    const maker = await joinAs('key-maker', role.json<{ id: string }>().id);
    const escalate = await post(maker, { name: 'k', permissions: ['teams:read', 'teams:delete'] });
    expect(escalate.statusCode).toBe(403);
    expect(escalate.json()).toMatchObject({ missingPermissions: ['teams:delete'] });
    expect((await post(maker, { name: 'k', permissions: ['teams:read'] })).statusCode).toBe(201);
  });

  it("never outlives its creator's access: a demoted or departed creator's keys lose those permissions", async () => {
    const admin = await joinAs('key-admin', SYSTEM_ROLES.admin.id);
    const { key } = await createKey(admin, ['teams:read', 'organizations:update']);
    expect((await withKey(key, 'PUT', `/organizations/${orgId}`, { name: 'Keyed' })).statusCode).toBe(200);
    const demote = await call(owner, 'PUT', `/organizations/${orgId}/members/${admin.userId}/roles`, {
      roleIds: [SYSTEM_ROLES.viewer.id],
    });
    expect(demote.statusCode).toBe(200);
    const lost = await withKey(key, 'PUT', `/organizations/${orgId}`, { name: 'Keyed' });
    expect(lost.statusCode).toBe(403);
    expect(lost.json()).toMatchObject({ missingPermissions: ['organizations:update'] });
    expect((await withKey(key, 'GET', `/organizations/${orgId}/teams`)).statusCode).toBe(200);
    expect((await call(owner, 'DELETE', `/organizations/${orgId}/members/${admin.userId}`)).statusCode).toBe(204);
    // Removal revokes the keys they made here: the key itself is dead, not just short of permissions.
    expect((await withKey(key, 'GET', `/organizations/${orgId}/teams`)).statusCode).toBe(401);
    const listed = (await call(owner, 'GET', `/organizations/${orgId}/api-keys`)).json<{
      items: Array<{ prefix: string; status: string }>;
    }>();
    expect(listed.items.find((item) => key.startsWith(`${item.prefix}_`))).toMatchObject({ status: 'revoked' });
    const rows = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { action: 'api-key.revoke', actorId: owner.userId } }));
    expect(rows.map((row) => row.metadata)).toContainEqual(expect.objectContaining({ reason: 'owner-removed' }));
  });

  it('dies at once when a platform admin deactivates its creator, in every organization, and stays dead', async () => {
    const creator = await joinAs('key-deactivated', SYSTEM_ROLES.admin.id);
    const { key } = await createKey(creator, ['members:read', 'teams:read']);
    const otherOrg = (await call(creator, 'POST', '/organizations', { name: 'Own' })).json<{ id: string }>().id;
    const { key: ownKey } = await createKey(creator, ['teams:read'], {}, otherOrg);
    // Warm: both keys are cached, and so is the creator's membership.
    expect((await withKey(key, 'GET', `/organizations/${orgId}/members`)).statusCode).toBe(200);
    expect((await withKey(ownKey, 'GET', `/organizations/${otherOrg}/teams`)).statusCode).toBe(200);

    const operator = await registerAndLogin(t, 'key-operator');
    await setPlatformAdmin(t, operator.userId);
    // The creator is the only owner of their own organization: someone there takes it over.
    const successor = await registerAndLogin(t, 'key-successor');
    await joinByInvitation(t, creator, otherOrg, successor);
    expect(
      (await call(operator, 'DELETE', `/users/${creator.userId}?successorId=${successor.userId}`)).statusCode,
    ).toBe(204);

    expect((await withKey(key, 'GET', `/organizations/${orgId}/members`)).statusCode).toBe(401);
    expect((await withKey(ownKey, 'GET', `/organizations/${otherOrg}/teams`)).statusCode).toBe(401);
    const revocations = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { action: 'api-key.revoke', actorId: operator.userId } }));
    expect(revocations.map((row) => [row.organizationId, row.metadata.reason]).sort()).toEqual(
      [
        [orgId, 'owner-deactivated'],
        [otherOrg, 'owner-deactivated'],
      ].sort(),
    );
    const deactivation = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.findOneByOrFail(AuditLog, { action: 'user.deactivate', targetId: creator.userId }));
    expect(deactivation.metadata).toMatchObject({ revokedCredentials: 2 });
  });

  it('refuses a live key whose creator is inactive even when no revocation was written (the database decides)', async () => {
    const creator = await joinAs('key-inactive', SYSTEM_ROLES.admin.id);
    const { key } = await createKey(creator, ['teams:read']);
    expect((await withKey(key, 'GET', `/organizations/${orgId}/teams`)).statusCode).toBe(200);
    // As if the deactivation came from elsewhere (the CLI, a restore) and this replica's caches
    // were cold: the key row is untouched, only the account is inactive.
    const transactions = t.app.get(TenantTransaction);
    await transactions.runAsSystem((m) =>
      m.query('UPDATE users SET is_active = false WHERE id = $1', [creator.userId]),
    );
    const registry: unknown = t.app.get(ApiKeyRegistry);
    (registry as { cache: Map<string, unknown> }).cache.clear();
    expect((await withKey(key, 'GET', `/organizations/${orgId}/teams`)).statusCode).toBe(401);
  });

  it('records when a key was last used, in batches rather than on every request', async () => {
    const { key, id } = await createKey(owner, ['teams:read']);
    const lastUsed = async () =>
      (await call(owner, 'GET', `/organizations/${orgId}/api-keys/${id}`)).json<{ lastUsedAt: string | null }>()
        .lastUsedAt;
    await withKey(key, 'GET', `/organizations/${orgId}/teams`);
    expect(await lastUsed()).toBeNull();
    await t.app.get(ApiKeyRegistry).flush();
    expect(await lastUsed()).not.toBeNull();
  });
});
