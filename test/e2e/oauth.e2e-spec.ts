import { AuditLog, OAuthAccount, TenantTransaction, User } from '@app/database';
import {
  GOOGLE_ROUTES,
  googleEndpoints,
  bearer,
  flowCookieOf,
  createTestApp,
  followToRedirect,
  login,
  loginHint,
  register,
  registerAndLogin,
  startGitHubStandIn,
  startIdentityProviders,
  uniqueEmail,
  type AuthorizationResponse,
  type GitHubStandIn,
  type GitHubUser,
  type IdentityProviders,
  type IdpAccount,
  type TestApp,
  type Tokens,
} from '@app/testing';
import { Inject, Injectable, Module } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Strategy as OAuth2Strategy } from 'passport-oauth2';
import type { EntityManager } from 'typeorm';
import { OAuthStateStore } from '../../apps/api/src/oauth/oauth-state.store';
import type { ExternalIdentity, SignInStrategy } from '../../apps/api/src/oauth/sign-in';

const REDIRECT_BASE = 'http://app.example.test/auth/callback';
type Provider = 'google' | 'microsoft' | 'keycloak' | 'oidc';

/*
 * A sign-in strategy written the way a team would add one: passport's generic OAuth 2.0 strategy
 * through @nestjs/passport, listed in a module of its own, pointed at a provider (here the GitHub
 * stand-in's endpoints). Nothing in the framework names it.
 */
const ACME_URL = Symbol('ACME_URL');

@Injectable()
class AcmeSignIn extends PassportStrategy(OAuth2Strategy, 'acme') implements SignInStrategy {
  readonly signInProvider = { id: 'acme', displayName: 'Acme Workforce', type: 'oauth2' };

  constructor(
    @Inject(ACME_URL) private readonly base: string,
    states: OAuthStateStore,
  ) {
    super({
      authorizationURL: `${base}/login/oauth/authorize`,
      tokenURL: `${base}/login/oauth/access_token`,
      clientID: 'github-client',
      clientSecret: 'github-secret',
      callbackURL: `${REDIRECT_BASE}/acme`,
      pkce: true,
      state: true,
      store: states.forPassport() as never,
    });
  }

  override userProfile(accessToken: string, done: (error: Error | null, profile?: unknown) => void): void {
    fetch(`${this.base}/user/emails`, { headers: { authorization: `Bearer ${accessToken}` } })
      .then(async (res) => done(null, await res.json()))
      .catch((error: Error) => done(error));
  }

  validate(
    _accessToken: string,
    _refreshToken: string,
    emails: Array<{ email: string; verified: boolean }>,
  ): ExternalIdentity {
    const [first] = emails;
    return {
      provider: 'acme',
      subject: `acme-${first?.email}`,
      email: first?.email ?? null,
      emailVerified: first?.verified === true,
      name: 'Acme person',
    };
  }
}

describe('sign-in with external identity providers', () => {
  let idp: IdentityProviders;
  let github: GitHubStandIn;
  let t: TestApp;

  beforeAll(async () => {
    const spec = (name: string, provider: string, path?: string) => ({
      name,
      ...(path ? { path } : {}),
      clients: [
        {
          client_id: `${name}-client`,
          client_secret: `${name}-secret`,
          redirect_uris: [`${REDIRECT_BASE}/${provider}`],
        },
      ],
    });
    // Google is plain OAuth 2.0 + userinfo through passport-google-oauth20, which posts its secret.
    const google = spec('google', 'google');
    idp = await startIdentityProviders([
      {
        ...google,
        routes: GOOGLE_ROUTES,
        clients: google.clients.map((client) => ({
          ...client,
          token_endpoint_auth_method: 'client_secret_post' as const,
        })),
      },
      spec('microsoft', 'microsoft'),
      spec('keycloak', 'keycloak', '/realms/acme'),
      spec('generic', 'oidc'),
    ]);
    github = await startGitHubStandIn();
    const base = github.url;
    @Module({ providers: [AcmeSignIn, { provide: ACME_URL, useValue: base }] })
    class AcmeSignInModule {}
    t = await createTestApp({
      modules: [AcmeSignInModule],
      env: {
        OAUTH_REDIRECT_URL: REDIRECT_BASE,
        ...googleEndpoints(idp.issuers.google),
        GOOGLE_CLIENT_ID: 'google-client',
        GOOGLE_CLIENT_SECRET: 'google-secret',
        MICROSOFT_ISSUER: idp.issuers.microsoft,
        MICROSOFT_CLIENT_ID: 'microsoft-client',
        MICROSOFT_CLIENT_SECRET: 'microsoft-secret',
        KEYCLOAK_ISSUER: idp.issuers.keycloak,
        KEYCLOAK_CLIENT_ID: 'keycloak-client',
        KEYCLOAK_CLIENT_SECRET: 'keycloak-secret',
        OIDC_ISSUER: idp.issuers.generic,
        OIDC_CLIENT_ID: 'generic-client',
        OIDC_CLIENT_SECRET: 'generic-secret',
        OIDC_DISPLAY_NAME: 'Acme SSO',
        GITHUB_URL: github.url,
        GITHUB_API_URL: github.url,
        GITHUB_CLIENT_ID: github.clientId,
        GITHUB_CLIENT_SECRET: github.clientSecret,
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await github?.close();
    await idp?.stop();
  });

  const system = <T>(work: (manager: EntityManager) => Promise<T>) => t.app.get(TenantTransaction).runAsSystem(work);
  const me = (token: string) => t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) });

  /*
   * The browser: each flow's start sets the flow cookie, and the callback sends it back. Kept by
   * state, as if each flow ran in the browser that started it; a test that plays another browser
   * sends a different cookie (or none).
   */
  const cookies = new Map<string, string>();
  const flowCookie = flowCookieOf;
  async function authorize(provider: string, token?: string): Promise<string> {
    const res = await t.inject({
      method: 'GET',
      url: token ? `/api/v1/auth/oauth/${provider}/link` : `/api/v1/auth/oauth/${provider}/authorize`,
      headers: token ? bearer(token) : {},
    });
    expect(res.statusCode).toBe(200);
    const url = res.json<{ authorizationUrl: string }>().authorizationUrl;
    const cookie = flowCookie(res);
    expect(cookie).toMatch(/^saas_flow=[A-Za-z0-9_-]{43}$/);
    cookies.set(new URL(url).searchParams.get('state') ?? '', cookie ?? '');
    return url;
  }
  const browserOf = (state: string) => ({ cookie: cookies.get(state) ?? '' });
  const atProvider = (provider: Provider, url: string, account: IdpAccount) =>
    followToRedirect(url, `${REDIRECT_BASE}/${provider}`, { login_hint: loginHint(account) });
  const callback = (
    provider: string,
    response: AuthorizationResponse,
    path = `/api/v1/auth/oauth/${provider}/callback`,
  ) => t.inject({ method: 'POST', url: path, payload: response, headers: browserOf(response.state) });

  async function signIn(provider: Provider, account: IdpAccount) {
    return callback(provider, await atProvider(provider, await authorize(provider), account));
  }
  const person = (label: string, verified = true): IdpAccount => ({
    sub: randomUUID(),
    email: uniqueEmail(label),
    email_verified: verified,
    name: `${label} person`,
  });

  it('lists the enabled providers and refuses unknown ones with 404', async () => {
    const res = await t.inject({ method: 'GET', url: '/api/v1/auth/providers' });
    expect(res.json()).toEqual([
      { id: 'google', name: 'Google', type: 'oauth2' },
      { id: 'microsoft', name: 'Microsoft', type: 'oidc' },
      { id: 'github', name: 'GitHub', type: 'oauth2' },
      { id: 'keycloak', name: 'Keycloak', type: 'oidc' },
      { id: 'oidc', name: 'Acme SSO', type: 'oidc' },
      { id: 'acme', name: 'Acme Workforce', type: 'oauth2' },
    ]);
    expect((await t.inject({ method: 'GET', url: '/api/v1/auth/oauth/facebook/authorize' })).statusCode).toBe(404);
    const unknown = await callback('facebook', { code: 'x', state: 'a'.repeat(43) });
    expect(unknown.statusCode).toBe(404);
  });

  it('builds an authorization URL with PKCE S256, state and (for OpenID Connect) nonce, or redirects to it', async () => {
    const url = new URL(await authorize('google'));
    expect(url.origin).toBe(new URL(idp.issuers.google ?? '').origin);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'google-client',
      redirect_uri: `${REDIRECT_BASE}/google`,
      response_type: 'code',
      code_challenge_method: 'S256',
      scope: 'openid email profile',
    });
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const oidc = new URL(await authorize('keycloak'));
    expect(Object.fromEntries(oidc.searchParams)).toMatchObject({
      client_id: 'keycloak-client',
      redirect_uri: `${REDIRECT_BASE}/keycloak`,
      code_challenge_method: 'S256',
    });
    expect(oidc.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(oidc.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const redirect = await t.inject({ method: 'GET', url: '/api/v1/auth/oauth/google/authorize?redirect=true' });
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers.location).toContain(`${idp.issuers.google}/auth?`);
  });

  it('signs up a new user through Google, and signs the same identity in again', async () => {
    const account = person('google-new');
    const first = await signIn('google', account);
    expect(first.statusCode).toBe(200);
    const tokens = first.json<Tokens>();
    expect((await me(tokens.access_token)).json()).toMatchObject({ email: account.email, emailVerified: true });
    const again = await signIn('google', account);
    expect(again.statusCode).toBe(200);
    const users = await system((m) => m.count(User, { where: { email: account.email } }));
    expect(users).toBe(1);
    const identities = await t.inject({
      method: 'GET',
      url: '/api/v1/users/me/identities',
      headers: bearer(tokens.access_token),
    });
    expect(identities.json()).toEqual([
      expect.objectContaining({ provider: 'google', email: account.email, emailVerified: true }),
    ]);
  });

  it('links to an existing account by email only when the provider vouches for the address', async () => {
    const email = uniqueEmail('existing');
    const local = await register(t, email);
    // Microsoft: email not vouched for (no xms_edov) -> no takeover.
    const refused = await signIn('microsoft', { sub: randomUUID(), email, name: 'Mallory' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ type: string }>().type).toBe('/problems/account-exists');
    expect(await system((m) => m.countBy(OAuthAccount, { userId: local.id }))).toBe(0);
    // Keycloak with email_verified=false: refused as well, through the seed's route.
    const keycloakUnverified = await callback(
      'keycloak',
      await atProvider('keycloak', await authorize('keycloak'), { sub: randomUUID(), email, email_verified: false }),
      '/api/v1/auth/keycloak/callback',
    );
    expect(keycloakUnverified.statusCode).toBe(409);
    // Keycloak vouching for it: linked to the same account.
    const linked = await callback(
      'keycloak',
      await atProvider('keycloak', await authorize('keycloak'), { sub: randomUUID(), email, email_verified: true }),
      '/api/v1/auth/keycloak/callback',
    );
    expect(linked.statusCode).toBe(200);
    expect((await me(linked.json<Tokens>().access_token)).json()).toMatchObject({ id: local.id });
    // Google's userinfo with email_verified=false: refused too.
    const googleUnverified = await signIn('google', { sub: randomUUID(), email, email_verified: false });
    expect(googleUnverified.statusCode).toBe(409);
    // Microsoft with the tenant-verified domain claim counts as vouching.
    const entra = await signIn('microsoft', { sub: randomUUID(), email, xms_edov: true });
    expect(entra.statusCode).toBe(200);
    expect(await system((m) => m.countBy(OAuthAccount, { userId: local.id }))).toBe(2);
  });

  it('does not let an unverified squatter keep an account the real owner then proves', async () => {
    const email = uniqueEmail('victim');
    const squatter = await registerAndLogin(t, 'squatter');
    // The squatter registered the victim's address (never verified) with their own password.
    await system((m) => m.update(User, { id: squatter.userId }, { email }));
    const owner = await signIn('oidc', { sub: randomUUID(), email, email_verified: true, name: 'Real Owner' });
    expect(owner.statusCode).toBe(200);
    expect((await me(owner.json<Tokens>().access_token)).json()).toMatchObject({
      id: squatter.userId,
      emailVerified: true,
    });
    expect((await me(squatter.tokens.access_token)).statusCode).toBe(401);
    expect((await login(t, email)).statusCode).toBe(401);
    const audit = await system((m) => m.findOneBy(AuditLog, { action: 'auth.oauth.link', actorId: squatter.userId }));
    expect(audit?.metadata).toMatchObject({ provider: 'oidc', claimedUnverifiedAccount: true });
  });

  it('refuses an ID token with a bad signature, audience, nonce, issuer or expiry, creating nobody', async () => {
    for (const tamper of ['signature', 'audience', 'nonce', 'issuer', 'expired'] as const) {
      const account = { ...person(`tamper-${tamper}`), tamper };
      const res = await signIn('oidc', account);
      expect({ tamper, status: res.statusCode, type: res.json<{ type: string }>().type }).toEqual({
        tamper,
        status: 400,
        type: '/problems/oauth-failed',
      });
      expect(await system((m) => m.countBy(User, { email: account.email }))).toBe(0);
    }
  });

  it('makes state single-use and bound to its provider and purpose', async () => {
    const account = person('state');
    const response = await atProvider('google', await authorize('google'), account);
    // Another provider's callback: refused, and the state is spent.
    const crossed = await callback('keycloak', response);
    expect(crossed.statusCode).toBe(400);
    expect(crossed.json<{ type: string }>().type).toBe('/problems/invalid-state');
    expect((await callback('google', response)).statusCode).toBe(400);

    const fresh = await atProvider('google', await authorize('google'), account);
    expect((await callback('google', fresh)).statusCode).toBe(200);
    const replay = await callback('google', fresh);
    expect(replay.statusCode).toBe(400);
    expect(replay.json<{ type: string }>().type).toBe('/problems/invalid-state');
    expect((await callback('google', { code: 'whatever', state: 'b'.repeat(43) })).statusCode).toBe(400);
    const malformed = await callback('google', { code: '', state: 'short' });
    expect(malformed.statusCode).toBe(400);
    expect(
      malformed
        .json<{ errors: Array<{ field: string }> }>()
        .errors.map((e) => e.field)
        .sort(),
    ).toEqual(['code', 'state']);
  });

  it('signs in with GitHub using its verified primary email; refuses provider errors cleanly', async () => {
    const user: GitHubUser = {
      id: Math.floor(Math.random() * 1e9),
      login: `octo${Date.now()}`,
      name: null,
      emails: [
        { email: uniqueEmail('gh-secondary'), primary: false, verified: true },
        { email: uniqueEmail('gh-primary'), primary: true, verified: true },
      ],
    };
    const url = await authorize('github');
    expect(new URL(url).searchParams.get('scope')).toBe('read:user user:email');
    const response = await github.authorize(url, user);
    const res = await callback('github', response);
    expect(res.statusCode).toBe(200);
    expect((await me(res.json<Tokens>().access_token)).json()).toMatchObject({
      email: user.emails[1]?.email,
      emailVerified: true,
      fullName: user.login,
    });
    // GitHub answers a bad code with HTTP 200 and an error body: still a clean 400.
    const second = await github.authorize(await authorize('github'), user);
    const bad = await callback('github', { ...second, code: 'not-a-code' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ type: string }>().type).toBe('/problems/oauth-failed');

    // An unverified primary email never joins an existing account.
    const existing = uniqueEmail('gh-existing');
    await register(t, existing);
    const squat: GitHubUser = {
      ...user,
      id: user.id + 1,
      login: `${user.login}x`,
      emails: [{ email: existing, primary: true, verified: false }],
    };
    const conflict = await callback('github', await github.authorize(await authorize('github'), squat));
    expect(conflict.statusCode).toBe(409);
  });

  it('asks for the second factor when the account has MFA, and refuses deactivated accounts', async () => {
    const account = person('mfa');
    const first = await signIn('google', account);
    const userId = (await me(first.json<Tokens>().access_token)).json<{ id: string }>().id;
    await system((m) => m.update(User, { id: userId }, { mfaEnabled: true }));
    const challenged = await signIn('google', account);
    expect(challenged.statusCode).toBe(200);
    expect(challenged.json()).toMatchObject({ mfa_required: true, methods: ['totp', 'recovery_code'] });
    await system((m) => m.update(User, { id: userId }, { isActive: false }));
    const deactivated = await signIn('google', account);
    expect(deactivated.statusCode).toBe(401);
  });

  it('links a provider only from a flow the same user started, and keeps a way to sign in', async () => {
    const ann = await registerAndLogin(t, 'linker');
    const bob = await registerAndLogin(t, 'other');
    const identity = person('ann-github');
    const gh: GitHubUser = {
      id: Math.floor(Math.random() * 1e9),
      login: `ann${Date.now()}`,
      name: 'Ann',
      emails: [{ email: identity.email ?? '', primary: true, verified: true }],
    };
    const linkPath = '/api/v1/auth/oauth/github/link';
    // A login flow's state cannot finish a link, nor can Bob finish Ann's link.
    const loginState = await github.authorize(await authorize('github'), gh);
    const viaLoginState = await t.inject({
      method: 'POST',
      url: linkPath,
      headers: { ...bearer(ann.tokens.access_token), ...browserOf(loginState.state) },
      payload: loginState,
    });
    expect(viaLoginState.statusCode).toBe(400);
    const annsFlow = await github.authorize(await authorize('github', ann.tokens.access_token), gh);
    const stolen = await t.inject({
      method: 'POST',
      url: linkPath,
      headers: { ...bearer(bob.tokens.access_token), ...browserOf(annsFlow.state) },
      payload: annsFlow,
    });
    expect(stolen.statusCode).toBe(400);
    const annsSecondFlow = await github.authorize(await authorize('github', ann.tokens.access_token), gh);
    const linked = await t.inject({
      method: 'POST',
      url: linkPath,
      headers: { ...bearer(ann.tokens.access_token), ...browserOf(annsSecondFlow.state) },
      payload: annsSecondFlow,
    });
    expect(linked.statusCode).toBe(200);
    expect(linked.json()).toMatchObject({ provider: 'github', emailVerified: true });
    // The identity now signs Ann in; Bob cannot link it too.
    const viaGitHub = await callback('github', await github.authorize(await authorize('github'), gh));
    expect((await me(viaGitHub.json<Tokens>().access_token)).json()).toMatchObject({ id: ann.userId });
    const bobs = await github.authorize(await authorize('github', bob.tokens.access_token), gh);
    const taken = await t.inject({
      method: 'POST',
      url: linkPath,
      headers: { ...bearer(bob.tokens.access_token), ...browserOf(bobs.state) },
      payload: bobs,
    });
    expect(taken.statusCode).toBe(409);

    // An account with no password keeps its last identity.
    const only = person('only-google');
    const signedUp = await signIn('google', only);
    const token = signedUp.json<Tokens>().access_token;
    const [google] = (
      await t.inject({ method: 'GET', url: '/api/v1/users/me/identities', headers: bearer(token) })
    ).json<Array<{ id: string }>>();
    const last = await t.inject({
      method: 'DELETE',
      url: `/api/v1/users/me/identities/${google?.id}`,
      headers: bearer(token),
    });
    expect(last.statusCode).toBe(409);
    expect(last.json<{ type: string }>().type).toBe('/problems/last-sign-in-method');
    // Ann has a password: she may unlink GitHub; nobody unlinks someone else's identity.
    const [annsGitHub] = (
      await t.inject({ method: 'GET', url: '/api/v1/users/me/identities', headers: bearer(ann.tokens.access_token) })
    ).json<Array<{ id: string }>>();
    const foreign = await t.inject({
      method: 'DELETE',
      url: `/api/v1/users/me/identities/${annsGitHub?.id}`,
      headers: bearer(bob.tokens.access_token),
    });
    expect(foreign.statusCode).toBe(404);
    const unlinked = await t.inject({
      method: 'DELETE',
      url: `/api/v1/users/me/identities/${annsGitHub?.id}`,
      headers: bearer(ann.tokens.access_token),
    });
    expect(unlinked.statusCode).toBe(204);
  });

  it('signs in through a strategy a module adds, with the same state rules', async () => {
    const email = uniqueEmail('acme');
    const user: GitHubUser = {
      id: 1,
      login: `acme${Date.now()}`,
      name: null,
      emails: [{ email, primary: true, verified: true }],
    };
    const url = await authorize('acme');
    expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256');
    const response = await github.authorize(url, user);
    // Another provider's callback spends the state and refuses it.
    const crossed = await github.authorize(await authorize('acme'), user);
    expect((await callback('github', crossed)).statusCode).toBe(400);
    expect((await callback('acme', crossed)).json<{ type: string }>().type).toBe('/problems/invalid-state');
    const res = await callback('acme', response);
    expect(res.statusCode).toBe(200);
    expect((await me(res.json<Tokens>().access_token)).json()).toMatchObject({ email, emailVerified: true });
    const identities = await system((m) => m.findBy(OAuthAccount, { provider: 'acme', email }));
    expect(identities).toHaveLength(1);
    expect((await callback('acme', response)).statusCode).toBe(400);
  });

  it('refuses a flow finished by another browser than the one that started it (login CSRF), and audits it', async () => {
    // The attacker starts a flow in their browser and signs in at the provider as themself...
    const attacker = person('csrf-attacker');
    const response = await atProvider('oidc', await authorize('oidc'), attacker);
    // ...then makes the victim's browser post the result: it carries the victim's own cookie, or none.
    const victimStart = await t.inject({ method: 'GET', url: '/api/v1/auth/oauth/oidc/authorize' });
    const victimCookie = flowCookie(victimStart) ?? '';
    for (const headers of [{ cookie: victimCookie }, {}]) {
      const fresh = await atProvider('oidc', await authorize('oidc'), attacker);
      const res = await t.inject({ method: 'POST', url: '/api/v1/auth/oauth/oidc/callback', payload: fresh, headers });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ type: string }>().type).toBe('/problems/invalid-state');
    }
    expect(await system((m) => m.countBy(User, { email: attacker.email }))).toBe(0);
    const refusals = await system((m) =>
      m.find(AuditLog, {
        where: { action: 'auth.oauth.login', outcome: 'failure' },
        order: { occurredAt: 'DESC' },
        take: 2,
      }),
    );
    expect(refusals.map((row) => row.metadata.reason)).toEqual(['other_browser', 'other_browser']);
    // The same goes for passport-oauth2 strategies (GitHub) and for the attacker's own flow from their browser.
    const gh: GitHubUser = {
      id: 77,
      login: `csrf${Date.now()}`,
      name: null,
      emails: [{ email: uniqueEmail('gh-csrf'), primary: true, verified: true }],
    };
    const ghResponse = await github.authorize(await authorize('github'), gh);
    const ghCrossed = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/oauth/github/callback',
      payload: ghResponse,
      headers: { cookie: victimCookie },
    });
    expect(ghCrossed.statusCode).toBe(400);
    expect((await callback('oidc', response)).statusCode).toBe(200);
  });

  it('binds a flow to a front end’s own secret instead of the cookie (bindingChallenge / bindingVerifier)', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const start = await t.inject({
      method: 'GET',
      url: `/api/v1/auth/oauth/keycloak/authorize?bindingChallenge=${challenge}`,
    });
    expect(start.statusCode).toBe(200);
    expect(flowCookie(start)).toBeUndefined();
    const account = person('spa');
    const response = await atProvider('keycloak', start.json<{ authorizationUrl: string }>().authorizationUrl, account);
    const wrong = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/oauth/keycloak/callback',
      payload: { ...response, bindingVerifier: randomBytes(32).toString('base64url') },
    });
    expect(wrong.statusCode).toBe(400);
    const again = await atProvider(
      'keycloak',
      (
        await t.inject({ method: 'GET', url: `/api/v1/auth/oauth/keycloak/authorize?bindingChallenge=${challenge}` })
      ).json<{ authorizationUrl: string }>().authorizationUrl,
      account,
    );
    const right = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/oauth/keycloak/callback',
      payload: { ...again, bindingVerifier: verifier },
    });
    expect(right.statusCode).toBe(200);
    const malformed = await t.inject({
      method: 'GET',
      url: '/api/v1/auth/oauth/keycloak/authorize?bindingChallenge=short',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ errors: [{ field: 'bindingChallenge' }] });
  });

  it('never stores provider tokens', async () => {
    const columns = await system((m) =>
      m.query<Array<{ column_name: string }>>(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'oauth_accounts'",
      ),
    );
    expect(columns.map((c) => c.column_name).filter((name) => /token|secret/.test(name))).toEqual([]);
  });
});

describe('sign-in providers that fail', () => {
  let idp: IdentityProviders;
  let t: TestApp;

  beforeAll(async () => {
    idp = await startIdentityProviders([
      {
        name: 'google',
        routes: GOOGLE_ROUTES,
        clients: [
          {
            client_id: 'c',
            client_secret: 's',
            redirect_uris: [`${REDIRECT_BASE}/google`],
            token_endpoint_auth_method: 'client_secret_post',
          },
        ],
      },
    ]);
    t = await createTestApp({
      env: {
        OAUTH_REDIRECT_URL: REDIRECT_BASE,
        OAUTH_STATE_TTL: '1',
        ...googleEndpoints(idp.issuers.google),
        GOOGLE_CLIENT_ID: 'c',
        GOOGLE_CLIENT_SECRET: 's',
        // Nothing listens there.
        OIDC_ISSUER: 'http://127.0.0.1:9/',
        OIDC_CLIENT_ID: 'x',
        OIDC_CLIENT_SECRET: 'y',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await idp?.stop();
  });

  it('answers 503 when the provider cannot be reached, and recovers without a restart', async () => {
    const res = await t.inject({ method: 'GET', url: '/api/v1/auth/oauth/oidc/authorize' });
    expect(res.statusCode).toBe(503);
    expect(res.json<{ type: string }>().type).toBe('/problems/provider-unavailable');
    expect((await t.inject({ method: 'GET', url: '/api/v1/auth/oauth/google/authorize' })).statusCode).toBe(200);
  });

  it('refuses a state older than OAUTH_STATE_TTL', async () => {
    const start = await t.inject({ method: 'GET', url: '/api/v1/auth/oauth/google/authorize' });
    const response = await followToRedirect(
      start.json<{ authorizationUrl: string }>().authorizationUrl,
      `${REDIRECT_BASE}/google`,
      {
        login_hint: loginHint({ sub: randomUUID(), email: uniqueEmail('late'), email_verified: true }),
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const cookie = ([] as string[]).concat(start.headers['set-cookie'] ?? [])[0]?.split(';')[0] ?? '';
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/oauth/google/callback',
      payload: response,
      headers: { cookie },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ type: string }>().type).toBe('/problems/invalid-state');
  });
});
