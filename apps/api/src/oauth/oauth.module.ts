import { Module } from '@nestjs/common';
import { IdentityModule } from '../auth/identity.module';
import { IdentitiesController } from './identities.controller';
import { OAuthClients } from './oauth-clients';
import { OAuthController } from './oauth.controller';
import { OAuthService } from './oauth.service';
import { OAuthStateStore } from './oauth-state.store';
import { ExternalAccounts } from './external-accounts';

/** Sign-in with Google, Microsoft, GitHub, Keycloak or any OpenID Connect issuer; linked identities. */
@Module({
  imports: [IdentityModule],
  controllers: [OAuthController, IdentitiesController],
  providers: [OAuthClients, OAuthStateStore, OAuthService, ExternalAccounts],
  exports: [ExternalAccounts],
})
export class OAuthModule {}
