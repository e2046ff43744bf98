import { PassportStrategy } from '@nestjs/passport';
import { Strategy as GoogleStrategy, type Profile } from 'passport-google-oauth20';
import type { OAuthStateStore } from '../oauth-state.store';
import { hardenOAuth2Transport, type TransportLimits } from './oauth2-transport';
import type { ExternalIdentity, SignInProviderInfo, SignInStrategy } from './sign-in-strategy';

export interface GoogleOptions {
  clientId: string;
  clientSecret: string;
  authorizationUrl: string;
  tokenUrl: string;
  userInfoUrl: string;
  redirectUri: string;
}

/**
 * Google through `passport-google-oauth20`: the code flow with PKCE S256 and a single-use state
 * from the sign-in state store, then Google's OpenID userinfo endpoint (asked with the access
 * token in an Authorization header, not the query string). Google vouches for an address with
 * `email_verified`.
 */
export class GoogleSignIn extends PassportStrategy(GoogleStrategy, 'google') implements SignInStrategy {
  readonly signInProvider: SignInProviderInfo = { id: 'google', displayName: 'Google', type: 'oauth2' };

  constructor(options: GoogleOptions, states: OAuthStateStore, limits: TransportLimits) {
    super({
      clientID: options.clientId,
      clientSecret: options.clientSecret,
      callbackURL: options.redirectUri,
      authorizationURL: options.authorizationUrl,
      tokenURL: options.tokenUrl,
      userProfileURL: options.userInfoUrl,
      scope: ['openid', 'email', 'profile'],
      pkce: true,
      state: true,
      store: states.forPassport() as never,
    });
    this._oauth2.useAuthorizationHeaderforGET(true);
    hardenOAuth2Transport(this, limits);
  }

  validate(_accessToken: string, _refreshToken: string | undefined, profile: Profile): ExternalIdentity {
    const claims = profile._json as { sub?: unknown; email?: unknown; email_verified?: unknown; name?: unknown };
    if (typeof claims.sub !== 'string' || claims.sub === '') throw new Error('Google userinfo without a subject');
    const email = typeof claims.email === 'string' ? claims.email.toLowerCase() : null;
    return {
      provider: this.signInProvider.id,
      subject: claims.sub,
      email,
      emailVerified: email !== null && (claims.email_verified === true || claims.email_verified === 'true'),
      name: typeof claims.name === 'string' ? claims.name.slice(0, 200) : null,
    };
  }
}
