import { Module } from '@nestjs/common';
import { IdentityModule } from '../auth/identity.module';
import { IdentitiesController } from './identities.controller';
import { OAuthClients } from './oauth-clients';
import { OAuthController } from './oauth.controller';
import { OAuthService } from './oauth.service';
import { OAuthStateStore } from './oauth-state.store';

/** Sign-in with Google, Microsoft, GitHub, Keycloak or any OpenID Connect issuer; linked identities. */
@Module({
  imports: [IdentityModule],
  controllers: [OAuthController, IdentitiesController],
  providers: [OAuthClients, OAuthStateStore, OAuthService],
})
export class OAuthModule {}
