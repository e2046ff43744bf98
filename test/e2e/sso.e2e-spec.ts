import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuditLog, OrganizationMember, TenantTransaction, User } from '@app/database';
import { SYSTEM_ROLES } from '@app/rbac';
import {
  bearer,
  flowCookieOf,
  createTestApp,
  readsOf,
  SHOWN_ONLY,
  joinByInvitation,
  login,
  register,
  registerAndLogin,
  setPlatformAdmin,
  startDnsServer,
  startSamlIdp,
  stripSignatures,
  withDoctype,
  wrapSignature,
  type DnsServer,
  type SamlIdp,
  type TestApp,
  type Tokens,
} from '@app/testing';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const APP_URL = 'http://sso.test';
const FRONT_END = 'https://app.sso.test';

interface Connection {
  id: string;
  spEntityId: string;
  acsUrl: string;
  loginUrl: string;
}

/** Single sign-on per organization, end to end through the HTTP api, against a real SAML IdP. */
describe('single sign-on: SAML connections, verified domains, just-in-time members', () => {
  let t: TestApp;
  let dns: DnsServer;
  let idp: SamlIdp;
  let owner: Account;
  let orgId: string;
  let connection: Connection;

  beforeAll(async () => {
    dns = await startDnsServer();
    idp = await startSamlIdp();
    t = await createTestApp({
      env: {
        APP_URL,
        CORS_ORIGINS: FRONT_END,
        SSO_RETURN_URL: `${FRONT_END}/sso/callback`,
        SSO_DNS_SERVERS: dns.address,
      },
    });
    owner = await registerAndLogin(t, 'sso-owner');
    orgId = (await call(owner, 'POST', '/organizations', { name: 'Acme' })).json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
    await dns.close();
  });

  function call(as: Account, method: Method, url: string, payload?: object) {
    return t.inject({ method, url: `/api/v1${url}`, headers: bearer(as.tokens.access_token), payload });
  }
  const audit = (action: string) =>
    t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { action }, order: { occurredAt: 'ASC' } }));

  /*
   * The browser: it keeps the flow cookie the api sets and sends it back (to the ACS, which the
   * IdP's form makes the browser post, and to the token exchange). One browser for the whole file;
   * a test that plays another one sends another cookie.
   */
  let browser = '';
  const keepCookie = (res: { headers: Record<string, unknown> }) => {
    browser = flowCookieOf(res) ?? browser;
  };
  async function exchange(code: string | null, cookie = browser) {
    return t.inject({ method: 'POST', url: '/api/v1/auth/sso/token', payload: { code }, headers: { cookie } });
  }

  /** Starts a sign-in as the browser would: the 302 to the IdP and the request id it carries. */
  async function start(connectionId: string, returnTo?: string) {
    const res = await t.inject({
      method: 'GET',
      url: `/api/v1/sso/${connectionId}/authorize${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`,
      headers: { cookie: browser },
    });
    expect(res.statusCode).toBe(302);
    keepCookie(res);
    const location = res.headers.location as string;
    const relayState = new URL(location).searchParams.get('RelayState');
    return { location, relayState, request: await idp.parseAuthnRequest(location) };
  }
  /** What the IdP's auto-submitting form posts to the ACS. */
  async function post(connectionId: string, samlResponse: string, relayState?: string | null, cookie = browser) {
    const form = new URLSearchParams({ SAMLResponse: samlResponse, ...(relayState ? { RelayState: relayState } : {}) });
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/sso/saml/${connectionId}/acs`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      payload: form.toString(),
    });
    if (cookie === browser) keepCookie(res);
    return res;
  }
  async function signIn(email: string, attributes: Record<string, string[]> = {}) {
    const { relayState, request } = await start(connection.id);
    const response = await idp.respond({
      spEntityId: connection.spEntityId,
      acsUrl: connection.acsUrl,
      inResponseTo: request.id,
      nameId: email,
      attributes: { email: [email], ...attributes },
    });
    return post(connection.id, response, relayState);
  }

  it('lets an owner set up a connection from IdP metadata and prove a domain by DNS', async () => {
    const created = await call(owner, 'POST', `/organizations/${orgId}/sso/connections`, {
      name: 'Test IdP',
      metadataXml: idp.metadataXml,
      roleMappings: [{ attribute: 'groups', value: 'acme-admins', roleIds: [SYSTEM_ROLES.admin.id] }],
    });
    expect(created.statusCode).toBe(201);
    connection = created.json<Connection>();
    expect(created.json()).toMatchObject({
      type: 'saml',
      enabled: true,
      idpEntityId: idp.entityId,
      idpSsoUrl: idp.ssoUrl,
      spEntityId: `${APP_URL}/api/v1/sso/saml/${connection.id}/metadata`,
      acsUrl: `${APP_URL}/api/v1/sso/saml/${connection.id}/acs`,
      idpCertificates: [expect.objectContaining({ expired: false })],
    });
    const metadata = await t.inject({ method: 'GET', url: `/api/v1/sso/saml/${connection.id}/metadata` });
    expect(metadata.statusCode).toBe(200);
    expect(metadata.headers['content-type']).toContain('application/samlmetadata+xml');
    expect(metadata.body).toContain(connection.acsUrl);

    const claimed = await call(owner, 'POST', `/organizations/${orgId}/domains`, { domain: 'Acme.Example.' });
    expect(claimed.statusCode).toBe(201);
    const domain = claimed.json<{
      id: string;
      domain: string;
      status: string;
      txtRecord: { name: string; value: string };
    }>();
    expect(domain).toMatchObject({ domain: 'acme.example', status: 'pending' });
    // Not published yet: 409 with the record to publish.
    const early = await call(owner, 'POST', `/organizations/${orgId}/domains/${domain.id}/verify`);
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ type: '/problems/domain-not-verified', txtRecord: domain.txtRecord });
    // DNS down: 503, not a verdict.
    dns.silence(true);
    const down = await call(owner, 'POST', `/organizations/${orgId}/domains/${domain.id}/verify`);
    dns.silence(false);
    expect(down.statusCode).toBe(503);
    dns.setTxt(domain.txtRecord.name, ['v=spf1 -all', domain.txtRecord.value]);
    const verified = await call(owner, 'POST', `/organizations/${orgId}/domains/${domain.id}/verify`);
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toMatchObject({ status: 'verified' });
    expect((await audit('sso.connection.create')).map((row) => row.organizationId)).toEqual([orgId]);
    expect((await audit('sso.domain.verify')).map((row) => row.organizationId)).toEqual([orgId]);
  });

  it('signs a new person at the verified domain in through the IdP, as a member with the mapped role', async () => {
    const res = await signIn('new.person@acme.example', { groups: ['acme-admins', 'everyone'] });
    expect(res.statusCode).toBe(303);
    const back = new URL(res.headers.location as string);
    expect(back.origin + back.pathname).toBe(`${FRONT_END}/sso/callback`);
    const code = back.searchParams.get('sso_code');
    expect(code).toBeTruthy();
    const tokens = await exchange(code);
    expect(tokens.statusCode).toBe(200);
    const { access_token } = tokens.json<Tokens>();
    const me = await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(access_token) });
    expect(me.json()).toMatchObject({ email: 'new.person@acme.example', emailVerified: true });
    const members = await t.inject({
      method: 'GET',
      url: `/api/v1/organizations/${orgId}/members`,
      headers: bearer(access_token),
    });
    expect(members.statusCode).toBe(200);
    const mine = members
      .json<{ items: Array<{ email: string; roles: Array<{ name: string }> }> }>()
      .items.find((m) => m.email === 'new.person@acme.example');
    expect(mine?.roles.map((role) => role.name)).toEqual(['admin']);
    // The code is single use.
    expect((await exchange(code)).statusCode).toBe(400);
    const [provisioned] = (await audit('member.add')).filter((row) => row.organizationId === orgId);
    expect(provisioned?.metadata).toMatchObject({ via: 'sso-provisioning', connectionId: connection.id });
  });

  it('signs a known person in again without a second membership, with the default role when nothing maps', async () => {
    expect((await signIn('new.person@acme.example')).statusCode).toBe(303);
    const res = await signIn('plain@acme.example');
    const code = new URL(res.headers.location as string).searchParams.get('sso_code');
    const tokens = (await exchange(code)).json<Tokens>();
    const members = await t.inject({
      method: 'GET',
      url: `/api/v1/organizations/${orgId}/members?pageSize=100`,
      headers: bearer(tokens.access_token),
    });
    const items = members.json<{ items: Array<{ email: string; roles: Array<{ name: string }> }> }>().items;
    expect(items.filter((m) => m.email === 'new.person@acme.example')).toHaveLength(1);
    expect(items.find((m) => m.email === 'plain@acme.example')?.roles.map((r) => r.name)).toEqual(['member']);
  });

  it('cleans a name the IdP sends (bidirectional overrides and invisible characters dropped)', async () => {
    await signIn('spoof@acme.example', { displayName: ['Mallory\u202Egpj.exe\u200B'] });
    const user = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.findOneByOrFail(User, { email: 'spoof@acme.example' }));
    expect(user.fullName).toBe('Mallorygpj.exe');
  });

  it('refuses an address outside the verified domains, and writes no user', async () => {
    const res = await signIn('mallory@elsewhere.example');
    expect(res.statusCode).toBe(303);
    expect(new URL(res.headers.location as string).searchParams.get('sso_error')).toBe('domain-not-verified');
    const users = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.countBy(User, { email: 'mallory@elsewhere.example' }));
    expect(users).toBe(0);
    const refusals = await audit('auth.sso.login');
    expect(refusals.at(-1)).toMatchObject({ outcome: 'failure', metadata: { reason: 'domain-not-verified' } });
  });

  it('never lets a connection of one organization grant membership in another', async () => {
    // Organization B verifies its own domain and has its own connection, to the same IdP.
    const other = await registerAndLogin(t, 'sso-other-owner');
    const otherOrg = (await call(other, 'POST', '/organizations', { name: 'Other' })).json<{ id: string }>().id;
    const otherDomain = (
      await call(other, 'POST', `/organizations/${otherOrg}/domains`, { domain: 'other.example' })
    ).json<{ id: string; txtRecord: { name: string; value: string } }>();
    dns.setTxt(otherDomain.txtRecord.name, [otherDomain.txtRecord.value]);
    expect((await call(other, 'POST', `/organizations/${otherOrg}/domains/${otherDomain.id}/verify`)).statusCode).toBe(
      200,
    );
    // A's connection asserting an address of B's domain: refused (B's domain is not A's).
    const res = await signIn('victim@other.example');
    expect(new URL(res.headers.location as string).searchParams.get('sso_error')).toBe('domain-not-verified');
    const memberships = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.countBy(OrganizationMember, { organizationId: otherOrg }));
    expect(memberships).toBe(1);
    // And a second organization cannot verify a domain someone already holds.
    const squat = (await call(other, 'POST', `/organizations/${otherOrg}/domains`, { domain: 'acme.example' })).json<{
      id: string;
      txtRecord: { name: string; value: string };
    }>();
    dns.setTxt(squat.txtRecord.name, [squat.txtRecord.value]);
    expect((await call(other, 'POST', `/organizations/${otherOrg}/domains/${squat.id}/verify`)).statusCode).toBe(409);
  });

  it('refuses a forged, replayed or unsolicited response through the ACS, each audited', async () => {
    const { relayState, request } = await start(connection.id);
    const genuine = await idp.respond({
      spEntityId: connection.spEntityId,
      acsUrl: connection.acsUrl,
      inResponseTo: request.id,
      nameId: 'replay@acme.example',
      attributes: { email: ['replay@acme.example'] },
    });
    const cases: Array<[string, string, string]> = [
      ['unsigned', stripSignatures(genuine), 'unsigned'],
      ['wrapped', wrapSignature(genuine, 'ceo@acme.example'), 'bad-signature'],
      ['doctype', withDoctype(genuine), 'dtd-forbidden'],
      ['not base64', '%%%not-base64%%%', 'malformed'],
    ];
    for (const [label, body, expected] of cases) {
      const res = await post(connection.id, body);
      const error =
        res.statusCode === 303 ? new URL(res.headers.location as string).searchParams.get('sso_error') : null;
      expect({ label, status: res.statusCode, error }).toMatchObject({ label, status: 303 });
      expect({ label, error }).toEqual({ label, error: expected });
    }
    // Forgeries do not use up the request they name: the genuine answer is accepted once, and
    // the same assertion again is a replay.
    const first = await post(connection.id, genuine, relayState);
    expect(new URL(first.headers.location as string).searchParams.get('sso_code')).toBeTruthy();
    const again = await post(connection.id, genuine);
    expect(new URL(again.headers.location as string).searchParams.get('sso_error')).toMatch(/replayed|unknown-request/);
    // IdP-initiated (no request of ours) is off by default.
    const unsolicited = await idp.respond({
      spEntityId: connection.spEntityId,
      acsUrl: connection.acsUrl,
      nameId: 'tile@acme.example',
      attributes: { email: ['tile@acme.example'] },
    });
    const tile = await post(connection.id, unsolicited);
    expect(new URL(tile.headers.location as string).searchParams.get('sso_error')).toBe('idp-initiated-disabled');
    const reasons = (await audit('auth.sso.login')).map((row) => row.metadata.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['unsigned', 'dtd-forbidden', 'malformed', 'idp-initiated-disabled']),
    );
  });

  it('finishes a flow only in the browser that started it, and hands the session only to that browser', async () => {
    const { relayState, request } = await start(connection.id);
    const response = await idp.respond({
      spEntityId: connection.spEntityId,
      acsUrl: connection.acsUrl,
      inResponseTo: request.id,
      nameId: 'csrf@acme.example',
      attributes: { email: ['csrf@acme.example'] },
    });
    // The attacker's response, posted by a victim's browser (its own cookie, or none): refused.
    const crossed = await post(connection.id, response, relayState, 'saas_flow=' + 'v'.repeat(43));
    expect(crossed.statusCode).toBe(303);
    expect(new URL(crossed.headers.location as string).searchParams.get('sso_error')).toBe('other-browser');
    // A genuine sign-in's code, carried to another browser: refused there, and spent.
    const genuine = await signIn('handoff@acme.example');
    const code = new URL(genuine.headers.location as string).searchParams.get('sso_code');
    const elsewhere = await exchange(code, 'saas_flow=' + 'w'.repeat(43));
    expect(elsewhere.statusCode).toBe(400);
    expect((await exchange(code)).statusCode).toBe(400);
    const reasons = (await audit('auth.sso.login')).map((row) => row.metadata.reason);
    expect(reasons.filter((reason) => reason === 'other-browser')).toHaveLength(2);
    // Signed in again in the right browser: the code works there.
    const again = await signIn('handoff@acme.example');
    expect((await exchange(new URL(again.headers.location as string).searchParams.get('sso_code'))).statusCode).toBe(
      200,
    );
  });

  it('only returns to allowed origins (no open redirect) and answers bad input with problem+json', async () => {
    const evil = await t.inject({
      method: 'GET',
      url: `/api/v1/sso/${connection.id}/authorize?returnTo=${encodeURIComponent('https://evil.example/steal')}`,
    });
    expect(evil.statusCode).toBe(400);
    expect(evil.headers['content-type']).toContain('application/problem+json');
    const { relayState } = await start(connection.id, `${FRONT_END}/after-login`);
    expect(relayState).toBeTruthy();
    expect(
      (await t.inject({ method: 'GET', url: `/api/v1/sso/01900000-0000-7000-8000-000000000000/authorize` })).statusCode,
    ).toBe(404);
    expect((await t.inject({ method: 'GET', url: '/api/v1/sso/not-a-uuid/authorize' })).statusCode).toBe(400);
    // A form post anywhere else is still 415.
    const form = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=a%40b.c&password=x',
    });
    expect(form.statusCode).toBe(415);
    // Metadata that is not metadata, and a DOCTYPE in it.
    for (const metadataXml of ['<nope/>', `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${idp.metadataXml}`]) {
      const res = await call(owner, 'POST', `/organizations/${orgId}/sso/connections`, { name: 'Bad', metadataXml });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ errors: [expect.objectContaining({ field: 'metadataXml' })] });
    }
    const noCert = await call(owner, 'POST', `/organizations/${orgId}/sso/connections`, {
      name: 'Bad',
      idpEntityId: 'x',
      idpSsoUrl: 'https://idp.example/sso',
      idpCertificates: ['bm90IGEgY2VydA=='],
    });
    expect(noCert.statusCode).toBe(400);
    expect((await call(owner, 'POST', `/organizations/${orgId}/domains`, { domain: 'localhost' })).statusCode).toBe(
      400,
    );
  });

  it('keeps the set-up to sso:manage: a plain member and another organization see nothing', async () => {
    const member = await registerAndLogin(t, 'sso-member');
    await joinByInvitation(t, owner, orgId, member);
    const refused = await call(member, 'GET', `/organizations/${orgId}/sso/connections`);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ missingPermissions: ['sso:manage'] });
    // Showing a connection list reads none of its credential columns (nor anyone else's).
    expect(
      await readsOf(t, `/api/v1/organizations/${orgId}/sso/connections`, owner.tokens.access_token, 'sso_connections'),
    ).toEqual(SHOWN_ONLY);
    expect(
      await readsOf(
        t,
        `/api/v1/organizations/${orgId}/sso/connections/${connection.id}`,
        owner.tokens.access_token,
        'sso_connections',
      ),
    ).toEqual(SHOWN_ONLY);
    const outsider = await registerAndLogin(t, 'sso-outsider');
    expect((await call(outsider, 'GET', `/organizations/${orgId}/domains`)).statusCode).toBe(404);
    expect(
      (await call(outsider, 'PATCH', `/organizations/${orgId}/sso/connections/${connection.id}`, { enabled: false }))
        .statusCode,
    ).toBe(404);
    // Discovery says only what a verified domain makes public.
    const found = await t.inject({ method: 'POST', url: '/api/v1/sso/discover', payload: { email: 'x@ACME.example' } });
    expect(found.json()).toEqual({ sso: true, connectionId: connection.id, loginUrl: connection.loginUrl });
    for (const email of ['x@unverified.example', 'x@nobody.example']) {
      expect((await t.inject({ method: 'POST', url: '/api/v1/sso/discover', payload: { email } })).json()).toEqual({
        sso: false,
      });
    }
  });

  describe('enforcement', () => {
    /** A person at the verified domain with a password account, already a member. */
    async function domainMember(local: string, roleIds?: string[]): Promise<Account> {
      const email = `${local}-${Date.now().toString(36)}@acme.example`;
      await register(t, email);
      const tokens = (await login(t, email)).json<Tokens>();
      const me = (
        await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(tokens.access_token) })
      ).json<{
        id: string;
      }>();
      const account = { email, userId: me.id, tokens };
      await joinByInvitation(t, owner, orgId, account, roleIds);
      return account;
    }
    const teams = (as: { tokens: Tokens }) =>
      t.inject({ method: 'GET', url: `/api/v1/organizations/${orgId}/teams`, headers: bearer(as.tokens.access_token) });
    let boss: Account;
    let worker: Account;

    it('refuses to switch on where it would shut the switcher out, or before there is anything to sign in with', async () => {
      boss = await domainMember('boss', [SYSTEM_ROLES.owner.id]);
      worker = await domainMember('worker');
      const locked = await call(boss, 'PUT', `/organizations/${orgId}/sso/enforcement`, { enforced: true });
      expect(locked.statusCode).toBe(409);
      expect(locked.json()).toMatchObject({ type: '/problems/would-lock-you-out' });
      const empty = await registerAndLogin(t, 'sso-empty-owner');
      const emptyOrg = (await call(empty, 'POST', '/organizations', { name: 'Empty' })).json<{ id: string }>().id;
      const notReady = await call(empty, 'PUT', `/organizations/${emptyOrg}/sso/enforcement`, { enforced: true });
      expect(notReady.statusCode).toBe(409);
      expect(notReady.json()).toMatchObject({ type: '/problems/sso-not-ready' });
      const notOwner = await call(boss, 'PUT', `/organizations/${orgId}/sso/enforcement`, {
        enforced: true,
        breakGlassUserId: worker.userId,
      });
      expect(notOwner.statusCode).toBe(400);
    });

    it('keeps password sessions of domain members out, lets SSO sessions, the break-glass owner and platform admins in', async () => {
      expect((await teams(worker)).statusCode).toBe(200);
      const on = await call(boss, 'PUT', `/organizations/${orgId}/sso/enforcement`, {
        enforced: true,
        breakGlassUserId: boss.userId,
      });
      expect(on.statusCode).toBe(200);
      expect(on.json()).toEqual({ enforced: true, breakGlassUserId: boss.userId });

      // The worker's password session no longer reaches the organization...
      const refused = await teams(worker);
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ type: '/problems/sso-required', connectionIds: [connection.id] });
      // ...but a session signed in through the connection does (the same account, linked by its vouched email).
      const res = await signIn(worker.email);
      const code = new URL(res.headers.location as string).searchParams.get('sso_code');
      const viaSso = (await exchange(code)).json<Tokens>();
      expect((await teams({ tokens: viaSso })).statusCode).toBe(200);

      // The owner outside the domain is not concerned; the break-glass owner is let in and audited.
      expect((await teams(owner)).statusCode).toBe(200);
      expect((await teams(boss)).statusCode).toBe(200);
      const operator = await domainMember('ops');
      expect((await teams(operator)).statusCode).toBe(403);
      await setPlatformAdmin(t, operator.userId);
      expect((await teams(operator)).statusCode).toBe(200);
      const bypasses = (await audit('sso.enforcement.bypass')).filter((row) => row.organizationId === orgId);
      expect(bypasses.map((row) => [row.actorId, row.metadata.as])).toEqual([
        [boss.userId, 'break-glass'],
        [operator.userId, 'platform-admin'],
      ]);
      const denied = (await audit('access.denied')).filter((row) => row.actorId === worker.userId);
      expect(denied.map((row) => row.metadata.problem)).toEqual(['sso-required']);

      const off = await call(boss, 'PUT', `/organizations/${orgId}/sso/enforcement`, { enforced: false });
      expect(off.statusCode).toBe(200);
      expect((await teams(worker)).statusCode).toBe(200);
    });
  });

  it('fetches IdP metadata by URL only outside the private network, unless the operator allows it', async () => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(idp.metadataXml);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const metadataUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata`;
    const allowing = await createTestApp({ env: { SSO_METADATA_ALLOW_PRIVATE: 'true' } });
    try {
      const refused = await call(owner, 'POST', `/organizations/${orgId}/sso/connections`, {
        name: 'By URL',
        metadataUrl,
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({
        errors: [{ field: 'metadataUrl', message: 'metadataUrl could not be fetched (private-address)' }],
      });
      for (const bad of ['http://169.254.169.254/latest/meta-data/', 'http://localhost:1/x', 'file:///etc/passwd']) {
        const res = await call(owner, 'POST', `/organizations/${orgId}/sso/connections`, {
          name: 'By URL',
          metadataUrl: bad,
        });
        expect({ bad, status: res.statusCode }).toEqual({ bad, status: 400 });
      }
      // An OpenID issuer goes through the same guard: discovery on a private address is refused.
      for (const oidcIssuer of [metadataUrl.replace('/metadata', ''), 'http://169.254.169.254', 'http://localhost:1']) {
        const res = await call(owner, 'POST', `/organizations/${orgId}/sso/connections`, {
          name: 'OIDC',
          type: 'oidc',
          oidcIssuer,
          oidcClientId: 'c',
          oidcClientSecret: 's',
        });
        expect({ oidcIssuer, status: res.statusCode, body: res.json<unknown>() }).toMatchObject({
          oidcIssuer,
          status: 400,
          body: { errors: [{ field: 'oidcIssuer', message: 'oidcIssuer could not be used (private-address)' }] },
        });
      }
      const admin = await registerAndLogin(allowing, 'sso-url-owner');
      const org = (
        await allowing.inject({
          method: 'POST',
          url: '/api/v1/organizations',
          headers: bearer(admin.tokens.access_token),
          payload: { name: 'U' },
        })
      ).json<{ id: string }>().id;
      const created = await allowing.inject({
        method: 'POST',
        url: `/api/v1/organizations/${org}/sso/connections`,
        headers: bearer(admin.tokens.access_token),
        payload: { name: 'By URL', metadataUrl },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ idpEntityId: idp.entityId, idpSsoUrl: idp.ssoUrl });
    } finally {
      await allowing.close();
      server.close();
    }
  });
});
