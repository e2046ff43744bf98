import { randomUUID } from 'node:crypto';
import { AuditLog, SsoConnection, TenantTransaction, User } from '@app/database';
import { SYSTEM_ROLES } from '@app/rbac';
import {
  bearer,
  flowCookieOf,
  createTestApp,
  followToRedirect,
  loginHint,
  registerAndLogin,
  registerClient,
  startDnsServer,
  startIdentityProviders,
  type DnsServer,
  type IdentityProviders,
  type IdpAccount,
  type TestApp,
  type Tokens,
} from '@app/testing';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
type Method = 'GET' | 'POST' | 'PATCH';

const APP_URL = 'http://oidc-sso.test';
const FRONT_END = 'https://app.oidc-sso.test';
const DOMAIN = 'acme-oidc.example';

interface Connection {
  id: string;
  type: string;
  redirectUri: string;
  loginUrl: string;
}

/**
 * An organization's own OpenID Connect IdP, end to end through the HTTP api, against a real
 * OpenID provider (oidc-provider, in its own process) that the organization registers a client at.
 */
describe('single sign-on: OpenID Connect connections', () => {
  let t: TestApp;
  let dns: DnsServer;
  let idp: IdentityProviders;
  let issuer: string;
  let owner: Account;
  let orgId: string;
  let connection: Connection;

  beforeAll(async () => {
    dns = await startDnsServer();
    idp = await startIdentityProviders([{ name: 'corp', registration: true, clients: [] }]);
    issuer = idp.issuers.corp ?? '';
    t = await createTestApp({
      env: {
        APP_URL,
        CORS_ORIGINS: FRONT_END,
        SSO_RETURN_URL: `${FRONT_END}/sso/callback`,
        SSO_DNS_SERVERS: dns.address,
        // The test issuer listens on loopback.
        SSO_METADATA_ALLOW_PRIVATE: 'true',
      },
    });
    owner = await registerAndLogin(t, 'oidc-owner');
    orgId = (await call(owner, 'POST', '/organizations', { name: 'Acme OIDC' })).json<{ id: string }>().id;
    const claimed = await call(owner, 'POST', `/organizations/${orgId}/domains`, { domain: DOMAIN });
    const domain = claimed.json<{ id: string; txtRecord: { name: string; value: string } }>();
    dns.setTxt(domain.txtRecord.name, [domain.txtRecord.value]);
    expect((await call(owner, 'POST', `/organizations/${orgId}/domains/${domain.id}/verify`)).statusCode).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await dns?.close();
    await idp?.stop();
  });

  function call(as: Account, method: Method, url: string, payload?: object) {
    return t.inject({ method, url: `/api/v1${url}`, headers: bearer(as.tokens.access_token), payload });
  }
  const system = <T>(work: Parameters<TenantTransaction['runAsSystem']>[0]) =>
    t.app.get(TenantTransaction).runAsSystem(work) as Promise<T>;
  const refusals = () =>
    t.app.get(TenantTransaction).runAsSystem((m) => m.find(AuditLog, { where: { action: 'auth.sso.login' } }));

  /* The browser's flow cookie: set when a flow starts, sent back at the callback and the token exchange. */
  let browser = '';
  const keepCookie = (res: { headers: Record<string, unknown> }) => {
    browser = flowCookieOf(res) ?? browser;
  };

  /** The browser's whole trip: authorize at the api, sign in at the issuer, back to the api's callback. */
  async function browse(account: IdpAccount, connectionId = connection.id, returnTo?: string) {
    const started = await t.inject({
      method: 'GET',
      url: `/api/v1/sso/${connectionId}/authorize${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`,
      headers: { cookie: browser },
    });
    expect(started.statusCode).toBe(302);
    keepCookie(started);
    const location = started.headers.location as string;
    const back = await followToRedirect(location, `${APP_URL}/api/v1/sso/oidc/${connectionId}/callback`, {
      login_hint: loginHint(account),
    });
    return { location, back };
  }
  function callback(params: Record<string, string>, connectionId = connection.id, cookie = browser) {
    return t.inject({
      method: 'GET',
      url: `/api/v1/sso/oidc/${connectionId}/callback?${new URLSearchParams(params).toString()}`,
      headers: { cookie },
    });
  }
  const landed = (res: { statusCode: number; headers: Record<string, unknown> }) => {
    expect(res.statusCode).toBe(303);
    return new URL(res.headers.location as string).searchParams;
  };
  const person = (local: string, extra: Partial<IdpAccount> = {}): IdpAccount => ({
    sub: randomUUID(),
    email: `${local}@${DOMAIN}`,
    email_verified: true,
    name: `${local} person`,
    ...extra,
  });

  it('refuses a half-described or mismatched OIDC connection, naming the field', async () => {
    const base = `/organizations/${orgId}/sso/connections`;
    const missing = await call(owner, 'POST', base, { name: 'Corp', type: 'oidc', oidcIssuer: issuer });
    expect(missing.statusCode).toBe(400);
    expect(
      missing
        .json<{ errors: Array<{ field: string }> }>()
        .errors.map((e) => e.field)
        .sort(),
    ).toEqual(['oidcClientId', 'oidcClientSecret']);
    const mixed = await call(owner, 'POST', base, {
      name: 'Corp',
      type: 'oidc',
      oidcIssuer: issuer,
      oidcClientId: 'x',
      oidcClientSecret: 'y',
      idpEntityId: 'urn:saml',
    });
    expect(mixed.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field)).toEqual(['idpEntityId']);
    const samlWithOidc = await call(owner, 'POST', base, { name: 'Corp', oidcClientId: 'x' });
    expect(samlWithOidc.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field)).toEqual([
      'oidcClientId',
    ]);
    for (const [oidcIssuer, reason] of [
      ['http://127.0.0.1:9', 'unreachable'],
      [`${issuer}/elsewhere`, 'discovery answered 404'],
    ] as const) {
      const res = await call(owner, 'POST', base, {
        name: 'Corp',
        type: 'oidc',
        oidcIssuer,
        oidcClientId: 'x',
        oidcClientSecret: 'y',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ errors: Array<{ field: string; message: string }> }>().errors).toEqual([
        { field: 'oidcIssuer', message: expect.stringContaining(reason) as string },
      ]);
    }
    const badScopes = await call(owner, 'POST', base, {
      name: 'Corp',
      type: 'oidc',
      oidcIssuer: issuer,
      oidcClientId: 'x',
      oidcClientSecret: 'y',
      oidcScopes: 'email profile',
    });
    expect(badScopes.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field)).toEqual(['oidcScopes']);
    expect(await system<number>((m) => m.countBy(SsoConnection, { organizationId: orgId }))).toBe(0);
  });

  it('lets an owner connect the organization’s issuer; the secret is sealed and never shown', async () => {
    const created = await call(owner, 'POST', `/organizations/${orgId}/sso/connections`, {
      name: 'Corp IdP',
      type: 'oidc',
      oidcIssuer: `${issuer}/`,
      oidcClientId: 'placeholder',
      oidcClientSecret: 'placeholder-secret',
      oidcScopes: 'openid email profile',
      roleMappings: [{ attribute: 'groups', value: 'corp-admins', roleIds: [SYSTEM_ROLES.admin.id] }],
    });
    expect(created.statusCode).toBe(201);
    connection = created.json<Connection>();
    expect(created.json()).toMatchObject({
      type: 'oidc',
      oidcIssuer: issuer,
      oidcClientId: 'placeholder',
      idpEntityId: null,
      spEntityId: null,
      acsUrl: null,
      redirectUri: `${APP_URL}/api/v1/sso/oidc/${connection.id}/callback`,
      loginUrl: `${APP_URL}/api/v1/sso/${connection.id}/authorize`,
    });
    expect(created.body).not.toContain('placeholder-secret');
    // Now that the redirect URI exists, the organization registers its client at the issuer.
    const client = await registerClient(issuer, [connection.redirectUri]);
    const updated = await call(owner, 'PATCH', `/organizations/${orgId}/sso/connections/${connection.id}`, {
      oidcClientId: client.clientId,
      oidcClientSecret: client.clientSecret,
    });
    expect(updated.statusCode).toBe(200);
    expect(updated.body).not.toContain(client.clientSecret);
    const row = await system<SsoConnection | null>((m) => m.findOneBy(SsoConnection, { id: connection.id }));
    expect(row?.oidcClientSecret).toMatch(/^v1\./);
    expect(row?.oidcClientSecret).not.toContain(client.clientSecret);
    const changes = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { targetId: connection.id } }));
    expect(changes.map((row) => row.action).sort()).toEqual(['sso.connection.create', 'sso.connection.update']);
    expect(JSON.stringify(changes.map((row) => row.metadata))).not.toMatch(/secret-|placeholder-secret/);
    expect(JSON.stringify(changes.map((row) => row.metadata))).not.toContain(client.clientSecret);
  });

  it('signs a new person at the verified domain in through the issuer, as a member with the mapped role', async () => {
    const account = person('new.oidc', { groups: ['corp-admins', 'everyone'] });
    const { location, back } = await browse(account);
    const authorization = new URL(location);
    expect(authorization.origin).toBe(new URL(issuer).origin);
    expect(Object.fromEntries(authorization.searchParams)).toMatchObject({
      redirect_uri: connection.redirectUri,
      code_challenge_method: 'S256',
      scope: 'openid email profile',
    });
    expect(authorization.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const params = landed(await callback({ ...back }));
    expect(params.get('sso_error')).toBeNull();
    const tokens = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/sso/token',
      payload: { code: params.get('sso_code') },
      headers: { cookie: browser },
    });
    expect(tokens.statusCode).toBe(200);
    const token = tokens.json<Tokens>().access_token;
    const me = await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) });
    expect(me.json()).toMatchObject({ email: account.email, emailVerified: true });
    const members = await t.inject({
      method: 'GET',
      url: `/api/v1/organizations/${orgId}/members`,
      headers: bearer(token),
    });
    const mine = members
      .json<{ items: Array<{ email: string; roles: Array<{ name: string }> }> }>()
      .items.find((member) => member.email === account.email);
    expect(mine?.roles.map((role) => role.name)).toEqual(['admin']);
    // The same person again: the same account, one membership.
    const again = landed(await callback({ ...(await browse(account)).back }));
    expect(again.get('sso_code')).toBeTruthy();
    expect(await system<number>((m) => m.countBy(User, { email: account.email }))).toBe(1);
  });

  it('puts a first-time person in the teams their groups map to, and only this organization’s teams', async () => {
    const team = (await call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'Platform' })).json<{
      id: string;
    }>();
    const elsewhere = (await call(owner, 'POST', '/organizations', { name: 'Elsewhere' })).json<{ id: string }>().id;
    const foreignTeam = (await call(owner, 'POST', `/organizations/${elsewhere}/teams`, { name: 'Theirs' })).json<{
      id: string;
    }>();
    const url = `/organizations/${orgId}/sso/connections/${connection.id}`;
    const refused = await call(owner, 'PATCH', url, {
      teamMappings: [{ attribute: 'groups', value: 'platform', teamIds: [foreignTeam.id] }],
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ errors: [{ field: 'teamMappings' }] });
    const mapped = await call(owner, 'PATCH', url, {
      teamMappings: [{ attribute: 'groups', value: 'platform', teamIds: [team.id] }],
    });
    expect(mapped.statusCode).toBe(200);
    expect(mapped.json()).toMatchObject({
      teamMappings: [{ attribute: 'groups', value: 'platform', teamIds: [team.id] }],
    });
    const account = person('teamed', { groups: ['platform'] });
    expect(landed(await callback({ ...(await browse(account)).back })).get('sso_code')).toBeTruthy();
    const outsider = person('unteamed', { groups: ['sales'] });
    expect(landed(await callback({ ...(await browse(outsider)).back })).get('sso_code')).toBeTruthy();
    const teamMembers = (await call(owner, 'GET', `/organizations/${orgId}/teams/${team.id}/members`)).json<
      Array<{ email: string; roles: Array<{ name: string }> }>
    >();
    expect(teamMembers.map((member) => member.email)).toContain(account.email);
    expect(teamMembers.map((member) => member.email)).not.toContain(outsider.email);
    expect(teamMembers.find((member) => member.email === account.email)?.roles.map((role) => role.name)).toEqual([
      'team-member',
    ]);
  });

  it('refuses replayed state, foreign domains, forged ID tokens and IdP errors, each audited, creating nobody', async () => {
    const before = (await refusals()).length;
    const { back } = await browse(person('replay'));
    expect(landed(await callback({ ...back })).get('sso_code')).toBeTruthy();
    expect(landed(await callback({ ...back })).get('sso_error')).toBe('invalid-state');

    // An address that would read differently than it is (a direction override): treated as no address.
    const spoofed = person('spoof\u202Egpj');
    expect(landed(await callback({ ...(await browse(spoofed)).back })).get('sso_error')).toBe('no-email');
    expect(await system<number>((m) => m.countBy(User, { email: spoofed.email }))).toBe(0);

    const outsider: IdpAccount = { sub: randomUUID(), email: 'someone@elsewhere.example', email_verified: true };
    expect(landed(await callback({ ...(await browse(outsider)).back })).get('sso_error')).toBe('domain-not-verified');
    expect(await system<number>((m) => m.countBy(User, { email: outsider.email }))).toBe(0);

    for (const tamper of ['signature', 'audience', 'nonce', 'issuer', 'expired'] as const) {
      const forged = person(`forged-${tamper}`, { tamper });
      const error = landed(await callback({ ...(await browse(forged)).back })).get('sso_error');
      expect({ tamper, error }).toEqual({ tamper, error: 'oidc-failed' });
      expect(await system<number>((m) => m.countBy(User, { email: forged.email }))).toBe(0);
    }

    // The issuer said no (the person cancelled): the state of a real flow, and error=access_denied.
    const started = await t.inject({ method: 'GET', url: `/api/v1/sso/${connection.id}/authorize` });
    const state = new URL(started.headers.location as string).searchParams.get('state') ?? '';
    expect(landed(await callback({ state, error: 'access_denied' })).get('sso_error')).toBe('idp-refused');
    // A made-up state, a missing one, an unknown connection: refused, never a 500.
    expect(landed(await callback({ code: 'x', state: 'a'.repeat(43) })).get('sso_error')).toBe('invalid-state');
    expect(landed(await callback({ code: 'x' })).get('sso_error')).toBe('invalid-state');
    expect(landed(await callback({ code: 'x', state: 'b'.repeat(43) }, randomUUID())).get('sso_error')).toBe(
      'unknown-connection',
    );
    const reasons = (await refusals()).slice(before).map((row) => row.metadata.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'invalid-state',
        'domain-not-verified',
        'oidc-failed',
        'idp-refused',
        'unknown-connection',
      ]),
    );
    expect(reasons).toHaveLength(12);
  });

  it('finishes a flow only in the browser that started it (login CSRF)', async () => {
    const { back } = await browse(person('csrf-oidc'));
    const victim = 'saas_flow=' + 'v'.repeat(43);
    expect(landed(await callback({ ...back }, connection.id, victim)).get('sso_error')).toBe('other-browser');
    const { back: again } = await browse(person('csrf-oidc-2'));
    expect(landed(await callback({ ...again }, connection.id, '')).get('sso_error')).toBe('other-browser');
  });

  it('never sends the stored secret to a new issuer, and never lets a sign-in undo a directory’s deprovisioning', async () => {
    const moved = await call(owner, 'PATCH', `/organizations/${orgId}/sso/connections/${connection.id}`, {
      oidcIssuer: 'https://elsewhere.example',
    });
    expect(moved.statusCode).toBe(400);
    expect(moved.json()).toMatchObject({ errors: [{ field: 'oidcClientSecret' }] });
    // The organization's directory provisions a person, then takes them out.
    const scimToken = (await call(owner, 'POST', `/organizations/${orgId}/scim/tokens`, { name: 'Dir' })).json<{
      token: string;
    }>().token;
    const account = person('directory-removed');
    const scim = (method: 'POST' | 'PATCH', path: string, payload: object) =>
      t.inject({
        method,
        url: `/api/v1/organizations/${orgId}/scim/v2${path}`,
        headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' },
        payload: JSON.stringify(payload),
      });
    const created = await scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: account.email,
    });
    expect(created.statusCode).toBe(201);
    const off = await scim('PATCH', `/Users/${created.json<{ id: string }>().id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(off.statusCode).toBe(200);
    expect(landed(await callback({ ...(await browse(account)).back })).get('sso_error')).toBe('deprovisioned');
  });

  it('never lets one connection finish another connection’s flow', async () => {
    const other = await call(owner, 'POST', `/organizations/${orgId}/sso/connections`, {
      name: 'Second',
      type: 'oidc',
      oidcIssuer: issuer,
      oidcClientId: 'second',
      oidcClientSecret: 'second-secret',
    });
    expect(other.statusCode).toBe(201);
    const { back } = await browse(person('crossed'));
    const crossed = await callback({ ...back }, other.json<{ id: string }>().id);
    expect(landed(crossed).get('sso_error')).toBe('invalid-state');
    // The original connection cannot use it any more either: one try per state.
    expect(landed(await callback({ ...back })).get('sso_error')).toBe('invalid-state');
  });

  it('answers a foreign returnTo with 400 problem+json before anything leaves for the issuer', async () => {
    const res = await t.inject({
      method: 'GET',
      url: `/api/v1/sso/${connection.id}/authorize?returnTo=${encodeURIComponent('https://evil.example/x')}`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ errors: [{ field: 'returnTo' }] });
    const ok = await browse(person('return'), connection.id, `${FRONT_END}/after`);
    const target = new URL((await callback({ ...ok.back })).headers.location as string);
    expect(target.origin + target.pathname).toBe(`${FRONT_END}/after`);
  });
});
