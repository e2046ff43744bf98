import { PassportStrategy } from '@nestjs/passport';
import { Strategy as GitHubStrategy, type Profile } from 'passport-github2';
import type { OAuthStateStore } from '../oauth-state.store';
import { hardenOAuth2Transport, type TransportLimits } from './oauth2-transport';
import type { ExternalIdentity, SignInProviderInfo, SignInStrategy } from './sign-in-strategy';

export interface GitHubOptions {
  clientId: string;
  clientSecret: string;
  /** github.com, or a GitHub Enterprise Server's web address. */
  webUrl: string;
  /** api.github.com, or `<server>/api/v3`. */
  apiUrl: string;
  redirectUri: string;
  userAgent: string;
}

interface GitHubEmail {
  value: string;
  primary?: boolean;
  verified?: boolean;
}

/**
 * GitHub through `passport-github2`: plain OAuth 2.0 (PKCE S256, single-use state), then `/user`
 * and `/user/emails`. Only the primary address counts, and only when GitHub verified it.
 */
export class GitHubSignIn extends PassportStrategy(GitHubStrategy, 'github') implements SignInStrategy {
  readonly signInProvider: SignInProviderInfo = { id: 'github', displayName: 'GitHub', type: 'oauth2' };

  constructor(options: GitHubOptions, states: OAuthStateStore, limits: TransportLimits) {
    super({
      clientID: options.clientId,
      clientSecret: options.clientSecret,
      callbackURL: options.redirectUri,
      authorizationURL: `${options.webUrl}/login/oauth/authorize`,
      tokenURL: `${options.webUrl}/login/oauth/access_token`,
      userProfileURL: `${options.apiUrl}/user`,
      userEmailURL: `${options.apiUrl}/user/emails`,
      scope: ['read:user', 'user:email'],
      scopeSeparator: ' ',
      // Every address with GitHub's primary and verified flags, not only the primary one's text.
      allRawEmails: true,
      userAgent: options.userAgent,
      customHeaders: { 'User-Agent': options.userAgent, 'X-GitHub-Api-Version': '2022-11-28' },
      pkce: true,
      state: true,
      store: states.forPassport() as never,
    } as never);
    hardenOAuth2Transport(this, limits);
  }

  validate(_accessToken: string, _refreshToken: string | undefined, profile: Profile): ExternalIdentity {
    const emails = (profile.emails ?? []) as GitHubEmail[];
    const primary = emails.find((entry) => entry.primary === true);
    if (!profile.id) throw new Error('GitHub user without an id');
    return {
      provider: this.signInProvider.id,
      subject: String(profile.id),
      email: primary ? primary.value.toLowerCase() : null,
      emailVerified: primary?.verified === true,
      name: (profile.displayName || profile.username || '').slice(0, 200) || null,
    };
  }
}
