import { Module } from '@nestjs/common';
import { IdentityModule } from '../auth/identity.module';
import { MembersModule } from '../members/members.module';
import { OAuthModule } from '../oauth/oauth.module';
import { DomainVerifier } from './domain-verifier';
import { SsoAdminController } from './sso-admin.controller';
import { SsoAdminService } from './sso-admin.service';
import { SsoController } from './sso.controller';
import { SsoSignInService } from './sso-sign-in.service';
import { SsoStore } from './sso-store';

/** Enterprise single sign-on per organization: SAML connections, verified domains, sign-in. */
@Module({
  imports: [IdentityModule, MembersModule, OAuthModule],
  controllers: [SsoAdminController, SsoController],
  providers: [SsoAdminService, SsoSignInService, SsoStore, DomainVerifier],
})
export class SsoModule {}
