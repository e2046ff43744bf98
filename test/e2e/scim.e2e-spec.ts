import { AuditLog, ScimUser, TenantTransaction, User } from '@app/database';
import { SYSTEM_ROLES } from '@app/rbac';
import {
  bearer,
  createTestApp,
  readsOf,
  SHOWN_ONLY,
  joinByInvitation,
  login,
  markEmailVerified,
  register,
  registerAndLogin,
  startDnsServer,
  type DnsServer,
  type TestApp,
  type Tokens,
} from '@app/testing';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface ScimResponse {
  statusCode: number;
  headers: Record<string, unknown>;
  json<T = Record<string, unknown>>(): T;
  body: string;
}

const DOMAIN = 'acme-scim.example';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/**
 * Directory sync over SCIM 2.0, driven the way Okta and Entra ID drive it (their published request
 * shapes), through the real api.
 */
describe('directory sync (SCIM 2.0)', () => {
  let t: TestApp;
  let dns: DnsServer;
  let owner: Account;
  let orgId: string;
  let token: string;
  let base: string;

  beforeAll(async () => {
    dns = await startDnsServer();
    t = await createTestApp({ env: { APP_URL: 'http://scim.test', SSO_DNS_SERVERS: dns.address } });
    owner = await registerAndLogin(t, 'scim-owner');
    orgId = (await call(owner, 'POST', '/organizations', { name: 'Acme SCIM' })).json<{ id: string }>().id;
    const domain = (await call(owner, 'POST', `/organizations/${orgId}/domains`, { domain: DOMAIN })).json<{
      id: string;
      txtRecord: { name: string; value: string };
    }>();
    dns.setTxt(domain.txtRecord.name, [domain.txtRecord.value]);
    expect((await call(owner, 'POST', `/organizations/${orgId}/domains/${domain.id}/verify`)).statusCode).toBe(200);
    const created = await call(owner, 'POST', `/organizations/${orgId}/scim/tokens`, { name: 'Okta' });
    expect(created.statusCode).toBe(201);
    ({ token } = created.json<{ token: string }>());
    base = `/api/v1/organizations/${orgId}/scim/v2`;
  });
  afterAll(async () => {
    await t?.close();
    await dns?.close();
  });

  function call(as: Account, method: Method, url: string, payload?: object) {
    return t.inject({ method, url: `/api/v1${url}`, headers: bearer(as.tokens.access_token), payload });
  }
  /** What an IdP sends: the bearer token, application/scim+json. */
  async function scim(
    method: Method,
    path: string,
    payload?: object,
    headers: Record<string, string> = {},
    credential = token,
  ): Promise<ScimResponse> {
    return t.inject({
      method,
      url: `${base}${path}`,
      headers: {
        authorization: `Bearer ${credential}`,
        accept: 'application/scim+json',
        ...(payload ? { 'content-type': 'application/scim+json; charset=utf-8' } : {}),
        ...headers,
      },
      ...(payload ? { payload: JSON.stringify(payload) } : {}),
    });
  }
  const system = <T>(work: Parameters<TenantTransaction['runAsSystem']>[0]) =>
    t.app.get(TenantTransaction).runAsSystem(work) as Promise<T>;
  const expectScimError = (res: ScimResponse, status: number, scimType?: string) => {
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toContain('application/scim+json');
    expect(res.json()).toMatchObject({ schemas: [ERROR], status: String(status), ...(scimType ? { scimType } : {}) });
    expect(res.body).not.toMatch(/\n\s+at |node_modules|SELECT /);
  };
  const teamsOf = (tokens: Tokens) =>
    t.inject({ method: 'GET', url: `/api/v1/organizations/${orgId}/teams`, headers: bearer(tokens.access_token) });

  it('hands the token out once, to scim:manage only; the IdP reaches only its own organization', async () => {
    const listed = await call(owner, 'GET', `/organizations/${orgId}/scim/tokens`);
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(token.slice(22));
    // Showing a token list reads none of its credential columns (nor anyone else's).
    expect(
      await readsOf(t, `/api/v1/organizations/${orgId}/scim/tokens`, owner.tokens.access_token, 'scim_tokens'),
    ).toEqual(SHOWN_ONLY);
    expect(token).toMatch(/^scim_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    // A plain member cannot make one.
    const member = await registerAndLogin(t, 'scim-member');
    await joinByInvitation(t, owner, orgId, member);
    expect((await call(member, 'POST', `/organizations/${orgId}/scim/tokens`, { name: 'x' })).statusCode).toBe(403);
    // The token of another organization gets nothing here, and this one nothing there.
    const other = (await call(owner, 'POST', '/organizations', { name: 'Other SCIM' })).json<{ id: string }>().id;
    const foreign = await t.inject({
      method: 'GET',
      url: `/api/v1/organizations/${other}/scim/v2/Users`,
      headers: bearer(token),
    });
    expectScimError(foreign, 404);
    // Nor does it reach any other route, even of its own organization.
    expect(
      (await t.inject({ method: 'GET', url: `/api/v1/organizations/${orgId}/teams`, headers: bearer(token) }))
        .statusCode,
    ).toBe(403);
    expect((await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) })).statusCode).toBe(403);
    // And a person's own token does not provision: no role carries scim:provision.
    const asOwner = await t.inject({ method: 'GET', url: `${base}/Users`, headers: bearer(owner.tokens.access_token) });
    expectScimError(asOwner, 403);
    expectScimError(await scim('GET', '/Users', undefined, {}, 'scim_0000000000000000_' + 'x'.repeat(43)), 401);
  });

  it('describes itself: ServiceProviderConfig, ResourceTypes, Schemas', async () => {
    const config = await scim('GET', '/ServiceProviderConfig');
    expect(config.statusCode).toBe(200);
    expect(config.headers['content-type']).toContain('application/scim+json');
    expect(config.json()).toMatchObject({
      patch: { supported: true },
      filter: { supported: true },
      etag: { supported: true },
    });
    expect((await scim('GET', '/ResourceTypes')).json()).toMatchObject({
      totalResults: 2,
      Resources: [
        { id: 'User', schema: USER, endpoint: '/Users' },
        { id: 'Group', schema: 'urn:ietf:params:scim:schemas:core:2.0:Group', endpoint: '/Groups' },
      ],
    });
    expect((await scim('GET', '/Schemas')).json()).toMatchObject({
      Resources: [{ id: USER }, { id: 'urn:ietf:params:scim:schemas:core:2.0:Group' }],
    });
  });

  it('follows Okta: look up, create, read, deactivate (cut off at once), reactivate with PUT', async () => {
    const email = `ann.okta@${DOMAIN}`;
    const lookup = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${email}"`)}&startIndex=1&count=100`,
    );
    expect(lookup.json()).toMatchObject({ totalResults: 0, Resources: [] });
    const created = await scim('POST', '/Users', {
      schemas: [USER],
      userName: email,
      name: { givenName: 'Ann', familyName: 'Okta' },
      emails: [{ primary: true, value: email, type: 'work' }],
      displayName: 'Ann Okta',
      locale: 'en-US',
      externalId: '00u1okta',
      groups: [],
      password: 'ignored-Okta-sends-one-1!',
      active: true,
    });
    expect(created.statusCode).toBe(201);
    const user = created.json<{ id: string; meta: { version: string; location: string } }>();
    expect(created.headers.etag).toBe(user.meta.version);
    expect(created.headers.location).toBe(`http://scim.test${base}/Users/${user.id}`);
    expect(created.json()).toMatchObject({
      schemas: [USER],
      userName: email,
      externalId: '00u1okta',
      active: true,
      name: { givenName: 'Ann', familyName: 'Okta' },
      emails: [{ value: email, primary: true }],
    });
    expect(created.body).not.toContain('ignored-Okta');
    // The account exists, verified (the organization proved the domain), and is a member.
    const account = await system<User | null>((m) => m.findOneBy(User, { email }));
    expect(account?.emailVerifiedAt).not.toBeNull();
    expect(account?.passwordHash).toBeNull();
    expect((await scim('GET', `/Users/${user.id}`)).json()).toMatchObject({ id: user.id, active: true });
    const found = await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${email.toUpperCase()}"`)}`);
    expect(found.json()).toMatchObject({ totalResults: 1, itemsPerPage: 1, Resources: [{ id: user.id }] });

    // The person signs in (a password set by reset, say) and works in the organization...
    await t.app.get(TenantTransaction).runAsSystem((m) => m.update(User, { id: account?.id }, { passwordHash: null }));
    const person = await registerViaReset(email);
    expect((await teamsOf(person)).statusCode).toBe(200);
    // ...until the IdP deactivates them: the very next request is refused.
    const deactivated = await scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(deactivated.statusCode).toBe(200);
    expect(deactivated.json()).toMatchObject({ active: false });
    expect((await teamsOf(person)).statusCode).toBe(404);
    // Okta's PUT brings them back.
    const replaced = await scim('PUT', `/Users/${user.id}`, {
      schemas: [USER],
      id: user.id,
      userName: email,
      name: { givenName: 'Ann', familyName: 'Okta-Smith' },
      emails: [{ primary: true, value: email, type: 'work' }],
      active: true,
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ active: true, name: { familyName: 'Okta-Smith' } });
    expect((await teamsOf(person)).statusCode).toBe(200);
    // Every change is in the organization's log, by the SCIM token.
    const rows = await system<AuditLog[]>((m) =>
      m.find(AuditLog, { where: { organizationId: orgId, actorType: 'scim_token' }, order: { occurredAt: 'ASC' } }),
    );
    expect(rows.map((row) => row.action)).toEqual(
      expect.arrayContaining(['scim.user.create', 'member.add', 'scim.user.update', 'member.remove']),
    );
    // The provisioning log, through the api: the audit log filtered to the directory's actions.
    const log = await call(owner, 'GET', `/organizations/${orgId}/audit-logs?actorType=scim_token&limit=200`);
    expect(log.statusCode).toBe(200);
    const items = log.json<{ items: Array<{ actorType: string; action: string }> }>().items;
    expect(items.length).toBeGreaterThanOrEqual(rows.length);
    expect(new Set(items.map((item) => item.actorType))).toEqual(new Set(['scim_token']));
    expect(items.map((item) => item.action)).toContain('scim.user.create');
  });

  /** A password for a provisioned account, the way a person gets one: a reset (the mail flow has its own tests). */
  async function registerViaReset(email: string): Promise<Tokens> {
    const { PasswordHasher } = await import('@app/auth');
    const hash = await t.app.get(PasswordHasher).hash('A-strong-password-for-scim-42');
    await t.app.get(TenantTransaction).runAsSystem((m) => m.update(User, { email }, { passwordHash: hash }));
    const res = await login(t, email, 'A-strong-password-for-scim-42');
    expect(res.statusCode).toBe(200);
    return res.json<Tokens>();
  }

  it('follows Entra ID: enterprise extension, "Replace" with "False", Add, then DELETE', async () => {
    const email = `bo.entra@${DOMAIN}`;
    const created = await scim('POST', '/Users', {
      schemas: [USER, ENTERPRISE],
      externalId: 'e3f1c9a2-entra',
      userName: email,
      active: true,
      displayName: 'Bo Entra',
      emails: [{ primary: true, type: 'work', value: email }],
      name: { formatted: 'Bo Entra', familyName: 'Entra', givenName: 'Bo' },
      [ENTERPRISE]: { department: 'Ops' },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json<{ id: string }>().id;
    const byExternal = await scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "e3f1c9a2-entra"')}`);
    expect(byExternal.json()).toMatchObject({ totalResults: 1 });
    const off = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: 'active', value: 'False' },
        { op: 'Add', path: 'displayName', value: 'Bo E.' },
        { op: 'Replace', path: 'name.familyName', value: 'Entra-Jones' },
      ],
    });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ active: false, displayName: 'Bo E.', name: { familyName: 'Entra-Jones' } });
    const version = off.json<{ meta: { version: string } }>().meta.version;
    // A stale If-Match is refused and changes nothing.
    const stale = await scim(
      'PATCH',
      `/Users/${id}`,
      { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'True' }] },
      { 'if-match': 'W/"1"' },
    );
    expectScimError(stale, 412);
    expect((await scim('GET', `/Users/${id}`)).json()).toMatchObject({ active: false });
    const removed = await scim('DELETE', `/Users/${id}`, undefined, { 'if-match': version });
    expect(removed.statusCode).toBe(204);
    expectScimError(await scim('GET', `/Users/${id}`), 404);
    // The account outlives the SCIM User (it may belong elsewhere).
    expect(await system<number>((m) => m.countBy(User, { email }))).toBe(1);
    expect(await system<number>((m) => m.countBy(ScimUser, { id }))).toBe(0);
  });

  it('answers bad input in SCIM’s error schema and changes nothing', async () => {
    const before = await system<number>((m) => m.count(ScimUser));
    const good = { schemas: [USER], userName: `cy@${DOMAIN}` };
    expectScimError(await scim('POST', '/Users', { ...good, schemas: ['urn:example:Wrong'] }), 400, 'invalidValue');
    expectScimError(
      await scim('POST', '/Users', { ...good, schemas: [USER, 'urn:example:Other'] }),
      400,
      'invalidValue',
    );
    expectScimError(await scim('POST', '/Users', { schemas: [USER] }), 400, 'invalidValue');
    expectScimError(await scim('POST', '/Users', { ...good, active: 'maybe' }), 400, 'invalidValue');
    expectScimError(await scim('POST', '/Users', { ...good, userName: 'no-email-anywhere' }), 400, 'invalidValue');
    expectScimError(
      await scim('POST', '/Users', { ...good, emails: [{ value: 'x\u202E@acme-scim.example' }] }),
      400,
      'invalidValue',
    );
    expectScimError(await scim('POST', '/Users', [1, 2]), 400, 'invalidSyntax');
    // Filters: unsupported attribute, malformed, and an injection attempt (a value, never SQL).
    expectScimError(await scim('GET', `/Users?filter=${encodeURIComponent('password eq "x"')}`), 400, 'invalidFilter');
    expectScimError(await scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`), 400, 'invalidFilter');
    const injected = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "x' OR '1'='1" or userName co "%"`)}`,
    );
    expect(injected.statusCode).toBe(200);
    expect(injected.json()).toMatchObject({ totalResults: 0 });
    expectScimError(await scim('GET', '/Users?count=-1'), 400, 'invalidValue');
    // Uniqueness: the same userName twice.
    const first = await scim('POST', '/Users', good);
    expect(first.statusCode).toBe(201);
    expectScimError(await scim('POST', '/Users', good), 409, 'uniqueness');
    const id = first.json<{ id: string }>().id;
    // PATCH: unknown op, bad path, nothing to remove.
    expectScimError(
      await scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'move', path: 'x' }] }),
      400,
      'invalidSyntax',
    );
    expectScimError(
      await scim('PATCH', `/Users/${id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'emails[type eq', value: 'x' }],
      }),
      400,
      'invalidPath',
    );
    expectScimError(
      await scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove' }] }),
      400,
      'noTarget',
    );
    expectScimError(await scim('PATCH', `/Users/${id}`, { Operations: [] }), 400, 'invalidValue');
    expectScimError(await scim('GET', '/Users/not-a-uuid'), 404);
    expect(await system<number>((m) => m.count(ScimUser))).toBe(before + 1);
  });

  it('joins an existing account only when the organization is authoritative and its owner verified the address', async () => {
    // Verified, in the verified domain: joined (no second account).
    const verified = `dee@${DOMAIN}`;
    const dee = await register(t, verified);
    await markEmailVerified(t, dee.id);
    const joined = await scim('POST', '/Users', { schemas: [USER], userName: verified });
    expect(joined.statusCode).toBe(201);
    expect(await system<number>((m) => m.countBy(User, { email: verified }))).toBe(1);
    // Never verified: not taken over.
    const squatted = `eve@${DOMAIN}`;
    await register(t, squatted);
    expectScimError(await scim('POST', '/Users', { schemas: [USER], userName: squatted }), 409, 'uniqueness');
    // Outside the verified domains: an existing account is not joined, and no account is made
    // (it would squat an address someone else owns).
    const outside = (await registerAndLogin(t, 'outsider')).email;
    expectScimError(await scim('POST', '/Users', { schemas: [USER], userName: outside }), 409, 'uniqueness');
    expectScimError(
      await scim('POST', '/Users', { schemas: [USER], userName: 'contractor@elsewhere.example' }),
      400,
      'invalidValue',
    );
    expect(await system<number>((m) => m.countBy(User, { email: 'contractor@elsewhere.example' }))).toBe(0);
  });

  it('stops a token when it is revoked or its creator no longer manages SCIM', async () => {
    const admin = await registerAndLogin(t, 'scim-admin');
    await joinByInvitation(t, owner, orgId, admin, [SYSTEM_ROLES.admin.id]);
    const made = await call(admin, 'POST', `/organizations/${orgId}/scim/tokens`, { name: 'Entra' });
    const adminToken = made.json<{ token: string; id: string }>();
    expect((await scim('GET', '/Users', undefined, {}, adminToken.token)).statusCode).toBe(200);
    // Demoted to member: the token no longer provisions.
    expect(
      (
        await call(owner, 'PUT', `/organizations/${orgId}/members/${admin.userId}/roles`, {
          roleIds: [SYSTEM_ROLES.member.id],
        })
      ).statusCode,
    ).toBe(200);
    expectScimError(await scim('GET', '/Users', undefined, {}, adminToken.token), 403);
    // Revoked: 401 at once.
    expect((await call(owner, 'DELETE', `/organizations/${orgId}/scim/tokens/${adminToken.id}`)).statusCode).toBe(204);
    expectScimError(await scim('GET', '/Users', undefined, {}, adminToken.token), 401);
    const revocations = await system<AuditLog[]>((m) => m.find(AuditLog, { where: { action: 'scim.token.revoke' } }));
    expect(revocations).toHaveLength(1);
  });

  it('reaches only the attributes a User has: a PATCH path cannot write anywhere else', async () => {
    const created = await scim('POST', '/Users', { schemas: [USER], userName: `proto@${DOMAIN}` });
    const id = created.json<{ id: string }>().id;
    for (const operation of [
      { op: 'add', path: '__proto__.polluted', value: 'yes' },
      { op: 'add', path: 'constructor.prototype.polluted', value: 'yes' },
      { op: 'replace', value: { '__proto__.polluted': 'yes' } },
      { op: 'remove', path: 'toString' },
      { op: 'replace', path: 'password', value: 'x' },
    ]) {
      expectScimError(
        await scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [operation] }),
        400,
        'invalidPath',
      );
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The address is the person's: an IdP cannot change it (the same one is fine).
    expectScimError(
      await scim('PATCH', `/Users/${id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'emails[type eq "work"].value', value: `someone.else@${DOMAIN}` }],
      }),
      400,
      'mutability',
    );
    const same = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'emails[type eq "work"].value', value: `proto@${DOMAIN}` }],
    });
    expect(same.statusCode).toBe(200);
  });

  it('acts with its creator’s authority: an admin’s token cannot remove an owner', async () => {
    const admin = await registerAndLogin(t, 'scim-admin-2');
    await joinByInvitation(t, owner, orgId, admin, [SYSTEM_ROLES.admin.id]);
    const adminToken = (await call(admin, 'POST', `/organizations/${orgId}/scim/tokens`, { name: 'Admin IdP' })).json<{
      token: string;
    }>().token;
    // A second owner, in the verified domain, adopted by the IdP.
    const coOwnerEmail = `co.owner@${DOMAIN}`;
    const coOwner = await register(t, coOwnerEmail);
    await markEmailVerified(t, coOwner.id);
    const coOwnerLogin = (await login(t, coOwnerEmail)).json<Tokens>();
    await joinByInvitation(t, owner, orgId, { email: coOwnerEmail, userId: coOwner.id, tokens: coOwnerLogin }, [
      SYSTEM_ROLES.owner.id,
    ]);
    const adopted = await scim('POST', '/Users', { schemas: [USER], userName: coOwnerEmail }, {}, adminToken);
    expect(adopted.statusCode).toBe(201);
    const id = adopted.json<{ id: string }>().id;
    const off = await scim(
      'PATCH',
      `/Users/${id}`,
      { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] },
      {},
      adminToken,
    );
    expectScimError(off, 403);
    expectScimError(await scim('DELETE', `/Users/${id}`, undefined, {}, adminToken), 403);
    expect((await teamsOf(coOwnerLogin)).statusCode).toBe(200);
    // The owner's own token may.
    expect((await scim('DELETE', `/Users/${id}`)).statusCode).toBe(204);
    expect((await teamsOf(coOwnerLogin)).statusCode).toBe(404);
  });

  it('revokes a person’s SCIM tokens when they leave, and keeps them revoked', async () => {
    const admin = await registerAndLogin(t, 'scim-leaver');
    await joinByInvitation(t, owner, orgId, admin, [SYSTEM_ROLES.admin.id]);
    const made = (await call(admin, 'POST', `/organizations/${orgId}/scim/tokens`, { name: 'Leaver IdP' })).json<{
      token: string;
      id: string;
    }>();
    expect((await scim('GET', '/Users', undefined, {}, made.token)).statusCode).toBe(200);
    expect((await call(admin, 'DELETE', `/organizations/${orgId}/members/${admin.userId}`)).statusCode).toBe(204);
    expectScimError(await scim('GET', '/Users', undefined, {}, made.token), 401);
    const listed = (await call(owner, 'GET', `/organizations/${orgId}/scim/tokens`)).json<
      Array<{ id: string; revokedAt: string | null }>
    >();
    expect(listed.find((row) => row.id === made.id)?.revokedAt).not.toBeNull();
    // Back in the organization with the role again: the old token stays dead.
    await joinByInvitation(t, owner, orgId, admin, [SYSTEM_ROLES.admin.id]);
    expectScimError(await scim('GET', '/Users', undefined, {}, made.token), 401);
  });
});
