import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { IdentityModule } from '../auth/identity.module';
import { ExternalAccounts } from './external-accounts';
import { IdentitiesController } from './identities.controller';
import { OAuthController } from './oauth.controller';
import { OAuthService } from './oauth.service';
import { OAuthStateStore } from './oauth-state.store';
import { BUILT_IN_SIGN_IN_STRATEGIES } from './sign-in/built-in-strategies';
import { FlowBinding } from './sign-in/flow-binding';
import { SignInStrategies } from './sign-in/sign-in-strategies';

/**
 * Sign-in through passport strategies (Google, Microsoft, GitHub, Keycloak, any OpenID Connect
 * issuer, and whatever strategy another module lists); linked identities. Global, so that a
 * team's module can inject the state store and account resolution into its own strategy.
 */
@Global()
@Module({
  imports: [IdentityModule, DiscoveryModule],
  controllers: [OAuthController, IdentitiesController],
  providers: [
    OAuthStateStore,
    OAuthService,
    ExternalAccounts,
    SignInStrategies,
    FlowBinding,
    ...BUILT_IN_SIGN_IN_STRATEGIES,
  ],
  exports: [ExternalAccounts, OAuthStateStore, SignInStrategies, FlowBinding],
})
export class OAuthModule {}
