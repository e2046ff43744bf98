import { Logger } from '@nestjs/common';
import * as client from 'openid-client';
import type { OAuthStateStore } from '../oauth-state.store';
import { INVALID_STATE } from '../oauth-state.store';
import type { StrategyRequest } from './passport-bridge';
import type { ExternalIdentity, SignInProviderInfo, SignInStrategy } from './sign-in-strategy';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface OpenIdConnectOptions {
  provider: SignInProviderInfo;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string;
  redirectUri: string;
  states: OAuthStateStore;
  /** Seconds for each request to the issuer. */
  timeoutSeconds: number;
  /** Whether the issuer vouches for the email in these claims (default: `email_verified`). */
  vouchesFor?: (claims: client.IDToken, emailVerified: unknown) => boolean;
  /** Extra checks on every request to the issuer (the outbound guard for organizations' own issuers). */
  fetch?: client.CustomFetch;
}

type Actions = {
  success(user: ExternalIdentity): void;
  fail(challenge: unknown, status?: number): void;
  redirect(url: string): void;
  error(error: unknown): void;
};

/**
 * Sign-in with an OpenID Connect issuer, as a passport strategy (passport's `authenticate`
 * contract; `passport.use()` takes it as it is) on `openid-client`: discovery
 * (cached; a failure is retried on the next attempt), the code flow with PKCE S256, `state` and
 * `nonce` kept in the sign-in state store, and full ID token validation: the signature against
 * the issuer's JWKS (non-repudiation checks on: by default a token-endpoint ID token is trusted on
 * TLS alone), `iss`, `aud`, `exp`, `nonce`. Used for Microsoft, Keycloak, any configured issuer
 * and every organization's own OIDC connection.
 */
export class OpenIdConnectStrategy implements SignInStrategy {
  readonly name: string;
  readonly signInProvider: SignInProviderInfo;
  private readonly logger = new Logger('OpenIdConnect');
  private configuration: Promise<client.Configuration> | undefined;

  constructor(private readonly options: OpenIdConnectOptions) {
    this.name = options.provider.id;
    this.signInProvider = options.provider;
  }

  authenticate(req: StrategyRequest): void {
    // `this` is passport's per-attempt object: the strategy as prototype, plus the actions.
    const actions = this as unknown as Actions;
    const work = req.query.code ? this.callback(req, actions) : this.start(req, actions);
    work.catch((error: unknown) => actions.error(error));
  }

  private async start(req: StrategyRequest, actions: Actions): Promise<void> {
    const configuration = await this.discover();
    const codeVerifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = await this.options.states.begin(req.signIn, { codeVerifier, nonce });
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.options.redirectUri,
      scope: this.options.scopes,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    actions.redirect(url.href);
  }

  private async callback(req: StrategyRequest, actions: Actions): Promise<void> {
    const { code, state, iss } = req.query;
    const checked = await this.options.states.check(req.signIn, state);
    if (!('pending' in checked) || !checked.pending.codeVerifier || !checked.pending.nonce) {
      actions.fail({ ...INVALID_STATE, reason: 'refused' in checked ? checked.refused : 'unknown' }, 400);
      return;
    }
    const pending = checked.pending;
    const configuration = await this.discover();
    const currentUrl = new URL(this.options.redirectUri);
    currentUrl.searchParams.set('code', code ?? '');
    currentUrl.searchParams.set('state', state ?? '');
    if (iss) currentUrl.searchParams.set('iss', iss);
    const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    actions.success(await this.identity(configuration, tokens));
  }

  private async identity(
    configuration: client.Configuration,
    tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
  ): Promise<ExternalIdentity> {
    const claims = tokens.claims();
    if (!claims) throw new Error('no ID token');
    let all: Record<string, unknown> = { ...claims };
    let { email, email_verified: emailVerified, name } = all;
    // Some issuers put the email only in the userinfo response.
    if (typeof email !== 'string') {
      const info = await client.fetchUserInfo(configuration, tokens.access_token, claims.sub);
      ({ email, email_verified: emailVerified, name = name } = info as Record<string, unknown>);
      all = { ...info, ...all };
    }
    const vouches = this.options.vouchesFor ?? ((_claims, verified) => verified === true || verified === 'true');
    return {
      provider: this.options.provider.id,
      subject: claims.sub,
      email: typeof email === 'string' ? email.toLowerCase() : null,
      emailVerified: typeof email === 'string' && vouches(claims, emailVerified),
      name: typeof name === 'string' ? name.slice(0, 200) : null,
      attributes: claimAttributes(all),
    };
  }

  private discover(): Promise<client.Configuration> {
    if (!this.configuration) {
      const pending = this.build();
      this.configuration = pending;
      // A failed discovery is not remembered: the next sign-in tries again.
      pending.catch(() => {
        if (this.configuration === pending) this.configuration = undefined;
      });
    }
    return this.configuration;
  }

  private async build(): Promise<client.Configuration> {
    const target = new URL(this.options.issuer);
    // Plain http only to this machine (a local Keycloak, the test suite's provider): never across a network.
    const insecure = target.protocol === 'http:' && LOOPBACK.has(target.hostname);
    const guard = this.options.fetch;
    try {
      return await client.discovery(target, this.options.clientId, this.options.clientSecret, undefined, {
        timeout: this.options.timeoutSeconds,
        execute: [client.enableNonRepudiationChecks, ...(insecure ? [client.allowInsecureRequests] : [])],
        // Kept on the configuration too, so every later request (token, JWKS, userinfo) goes through it.
        ...(guard ? { [client.customFetch]: guard } : {}),
      });
    } catch (error) {
      this.logger.warn(
        `discovery of ${this.options.provider.id} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      throw new ProviderUnreachable(error);
    }
  }
}

/** Claims as attribute values (strings, numbers and booleans, and arrays of them), for role mappings. */
function claimAttributes(claims: Record<string, unknown>): Record<string, string[]> {
  const attributes = Object.create(null) as Record<string, string[]>;
  for (const [key, value] of Object.entries(claims)) {
    const values = (Array.isArray(value) ? value : [value]).filter((item): item is string | number | boolean =>
      ['string', 'number', 'boolean'].includes(typeof item),
    );
    if (values.length > 0) attributes[key] = values.slice(0, 500).map(String);
  }
  return attributes;
}

/** The issuer's discovery failed: the sign-in cannot start or finish now. */
export class ProviderUnreachable extends Error {
  override readonly name = 'ProviderUnreachable';

  constructor(cause: unknown) {
    super('the sign-in provider cannot be reached', { cause });
  }
}
