import { AppConfig, type OAuthProviderConfig } from '@app/config';
import type { FactoryProvider } from '@nestjs/common';
import { OAuthStateStore } from '../oauth-state.store';
import { GitHubSignIn } from './github.strategy';
import { GoogleSignIn } from './google.strategy';
import type { TransportLimits } from './oauth2-transport';
import { OpenIdConnectStrategy } from './openid-connect.strategy';
import type { SignInStrategy } from './sign-in-strategy';

/** Every request to a provider: ten seconds, a megabyte. */
export const PROVIDER_LIMITS: TransportLimits = { timeoutMs: 10_000, maxBytes: 1_000_000 };

function build(provider: OAuthProviderConfig, config: AppConfig, states: OAuthStateStore): SignInStrategy {
  const redirectUri = `${config.oauth.redirectBase}/${provider.id}`;
  switch (provider.kind) {
    case 'google':
      return new GoogleSignIn({ ...provider, redirectUri }, states, PROVIDER_LIMITS);
    case 'github':
      return new GitHubSignIn({ ...provider, redirectUri, userAgent: config.appName }, states, PROVIDER_LIMITS);
    case 'oidc':
      return new OpenIdConnectStrategy({
        provider: { id: provider.id, displayName: provider.displayName, type: 'oidc' },
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        scopes: provider.scopes,
        redirectUri,
        states,
        timeoutSeconds: PROVIDER_LIMITS.timeoutMs / 1000,
        // Entra's `email` is user-editable in many tenants and it emits no `email_verified`: only
        // the optional `xms_edov` claim (the domain is verified by the tenant) vouches.
        ...(provider.id === 'microsoft'
          ? { vouchesFor: (claims) => claims.xms_edov === true || claims.xms_edov === '1' }
          : {}),
      });
  }
}

/**
 * The framework's own strategies, one provider each, in the order `GET /auth/providers` lists
 * them; a provider whose client id is not set is `null` and the registry skips it.
 */
export const BUILT_IN_SIGN_IN_STRATEGIES: FactoryProvider[] = (
  ['google', 'microsoft', 'github', 'keycloak', 'oidc'] as const
).map((id) => ({
  provide: `sign-in-strategy:${id}`,
  inject: [AppConfig, OAuthStateStore],
  useFactory: (config: AppConfig, states: OAuthStateStore): SignInStrategy | null => {
    const provider = config.oauth.providers.find((candidate) => candidate.id === id);
    return provider ? build(provider, config, states) : null;
  },
}));
