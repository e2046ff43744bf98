import { ProblemException } from '@app/common';
import { AppConfig, type OAuthProviderConfig } from '@app/config';
import { HttpStatus, Injectable, Logger, NotFoundException } from '@nestjs/common';
import * as client from 'openid-client';
import type { PendingAuthorization } from './oauth-state.store';

/** Who the provider says signed in. `emailVerified` is true only when the provider vouches for it. */
export interface ExternalIdentity {
  provider: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

export interface AuthorizationCallback {
  code: string;
  state: string;
  /** RFC 9207 issuer identification, when the provider sent one. */
  iss?: string;
}

const REQUEST_TIMEOUT_SECONDS = 10;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

interface GitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

function problem(status: HttpStatus, slug: string, detail: string): ProblemException {
  return new ProblemException({
    status,
    slug,
    title: status === HttpStatus.SERVICE_UNAVAILABLE ? 'Service Unavailable' : 'Bad Request',
    detail,
  });
}

/** A network failure talking to the provider, as opposed to a refusal or an invalid response. */
function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'AbortError' || error.name === 'TimeoutError') return true;
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) return true;
  return error.cause instanceof Error && isUnreachable(error.cause);
}

/**
 * Talks to the providers with `openid-client`: discovery (cached; retried after a failure),
 * authorization URLs with PKCE (S256), `state` and `nonce`, and the code exchange with full ID
 * token validation (signature from the JWKS, iss, aud, exp, nonce). GitHub is plain OAuth 2.0
 * with fixed endpoints, then its /user and /user/emails.
 */
@Injectable()
export class OAuthClients {
  private readonly logger = new Logger('OAuth');
  private readonly configurations = new Map<string, Promise<client.Configuration>>();

  constructor(private readonly config: AppConfig) {}

  enabled(): OAuthProviderConfig[] {
    return this.config.oauth.providers;
  }

  /** The enabled provider, or 404 (unknown and disabled providers look the same). */
  provider(id: string): OAuthProviderConfig {
    const found = this.config.oauth.providers.find((provider) => provider.id === id);
    if (!found) throw new NotFoundException('No such sign-in provider.');
    return found;
  }

  redirectUri(provider: OAuthProviderConfig): string {
    return `${this.config.oauth.redirectBase}/${provider.id}`;
  }

  async authorizationUrl(provider: OAuthProviderConfig, state: string, pending: PendingAuthorization): Promise<string> {
    const configuration = await this.configuration(provider);
    const parameters: Record<string, string> = {
      redirect_uri: this.redirectUri(provider),
      scope: provider.scopes,
      state,
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    };
    if (provider.kind === 'oidc') parameters.nonce = pending.nonce;
    return client.buildAuthorizationUrl(configuration, parameters).href;
  }

  /** Exchanges the code and returns the validated identity; 400 for anything the provider or its tokens got wrong. */
  async exchange(
    provider: OAuthProviderConfig,
    callback: AuthorizationCallback,
    pending: PendingAuthorization,
  ): Promise<ExternalIdentity> {
    const configuration = await this.configuration(provider);
    const currentUrl = new URL(this.redirectUri(provider));
    currentUrl.searchParams.set('code', callback.code);
    currentUrl.searchParams.set('state', callback.state);
    if (callback.iss) currentUrl.searchParams.set('iss', callback.iss);
    try {
      const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: callback.state,
        ...(provider.kind === 'oidc' ? { expectedNonce: pending.nonce, idTokenExpected: true } : {}),
      });
      return provider.kind === 'github'
        ? await this.gitHubIdentity(provider, tokens.access_token)
        : await this.oidcIdentity(provider, configuration, tokens);
    } catch (error) {
      throw this.translate(provider, error);
    }
  }

  private async oidcIdentity(
    provider: Extract<OAuthProviderConfig, { kind: 'oidc' }>,
    configuration: client.Configuration,
    tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
  ): Promise<ExternalIdentity> {
    const claims = tokens.claims();
    if (!claims) throw new Error('no ID token');
    let { email, email_verified: emailVerified, name } = claims as Record<string, unknown>;
    // Some issuers put the email only in the userinfo response.
    if (typeof email !== 'string') {
      const info = await client.fetchUserInfo(configuration, tokens.access_token, claims.sub);
      ({ email, email_verified: emailVerified, name = name } = info as Record<string, unknown>);
    }
    return {
      provider: provider.id,
      subject: claims.sub,
      email: typeof email === 'string' ? email.toLowerCase() : null,
      emailVerified: typeof email === 'string' && this.vouchesFor(provider, claims, emailVerified),
      name: typeof name === 'string' ? name.slice(0, 200) : null,
    };
  }

  /**
   * Google, Keycloak and generic issuers: the standard `email_verified` claim. Microsoft Entra's
   * `email` is user-editable in many tenants and `email_verified` is not emitted, so only the
   * optional `xms_edov` claim (the email domain is verified by the tenant) counts.
   */
  private vouchesFor(provider: OAuthProviderConfig, claims: client.IDToken, emailVerified: unknown): boolean {
    if (provider.id === 'microsoft') return claims.xms_edov === true || claims.xms_edov === '1';
    return emailVerified === true || emailVerified === 'true';
  }

  private async gitHubIdentity(
    provider: Extract<OAuthProviderConfig, { kind: 'github' }>,
    accessToken: string,
  ): Promise<ExternalIdentity> {
    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${provider.apiUrl}${path}`, {
        headers: {
          authorization: `Bearer ${accessToken}`,
          accept: 'application/vnd.github+json',
          'user-agent': this.config.appName,
          'x-github-api-version': '2022-11-28',
        },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_SECONDS * 1000),
      });
      if (!res.ok) throw new Error(`GitHub ${path} answered ${res.status}`);
      return (await res.json()) as T;
    };
    const user = await get<{ id: number; login: string; name: string | null }>('/user');
    const emails = await get<GitHubEmail[]>('/user/emails');
    // Only the primary address, and only if GitHub verified it.
    const primary = emails.find((entry) => entry.primary);
    return {
      provider: provider.id,
      subject: String(user.id),
      email: primary?.email.toLowerCase() ?? null,
      emailVerified: primary?.verified === true,
      name: (user.name ?? user.login).slice(0, 200),
    };
  }

  private configuration(provider: OAuthProviderConfig): Promise<client.Configuration> {
    let pending = this.configurations.get(provider.id);
    if (!pending) {
      pending = this.build(provider);
      this.configurations.set(provider.id, pending);
      // A failed discovery is not remembered: the next sign-in tries again.
      pending.catch(() => this.configurations.delete(provider.id));
    }
    return pending;
  }

  private async build(provider: OAuthProviderConfig): Promise<client.Configuration> {
    const target = new URL(provider.kind === 'oidc' ? provider.issuer : provider.webUrl);
    // Plain http only to this machine (a local Keycloak, the test suite's provider): never across a network.
    const insecure = target.protocol === 'http:' && LOOPBACK.has(target.hostname);
    try {
      if (provider.kind === 'oidc') {
        return await client.discovery(target, provider.clientId, provider.clientSecret, undefined, {
          timeout: REQUEST_TIMEOUT_SECONDS,
          // By default an ID token straight from the token endpoint is trusted on TLS alone (OIDC
          // Core 3.1.3.7); this also verifies its signature against the issuer's JWKS.
          execute: [client.enableNonRepudiationChecks, ...(insecure ? [client.allowInsecureRequests] : [])],
        });
      }
      const configuration = new client.Configuration(
        {
          issuer: provider.webUrl,
          authorization_endpoint: `${provider.webUrl}/login/oauth/authorize`,
          token_endpoint: `${provider.webUrl}/login/oauth/access_token`,
        },
        provider.clientId,
        { client_secret: provider.clientSecret },
        client.ClientSecretPost(provider.clientSecret),
      );
      configuration.timeout = REQUEST_TIMEOUT_SECONDS;
      if (insecure) client.allowInsecureRequests(configuration);
      return configuration;
    } catch (error) {
      this.logger.warn(`discovery of ${provider.id} failed: ${error instanceof Error ? error.message : String(error)}`);
      throw problem(HttpStatus.SERVICE_UNAVAILABLE, 'provider-unavailable', 'The sign-in provider cannot be reached.');
    }
  }

  private translate(provider: OAuthProviderConfig, error: unknown): ProblemException {
    if (error instanceof ProblemException) return error;
    const code = (error as { code?: unknown }).code;
    const reason = `${error instanceof Error ? error.message : String(error)}${typeof code === 'string' ? ` (${code})` : ''}`;
    if (isUnreachable(error)) {
      this.logger.warn(`${provider.id} unreachable: ${reason}`);
      return problem(HttpStatus.SERVICE_UNAVAILABLE, 'provider-unavailable', 'The sign-in provider cannot be reached.');
    }
    this.logger.warn(`${provider.id} sign-in refused: ${reason}`);
    return problem(
      HttpStatus.BAD_REQUEST,
      'oauth-failed',
      'The sign-in could not be completed with the provider (the code may be used or expired, or its response was not valid).',
    );
  }
}
