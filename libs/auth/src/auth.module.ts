import { AppConfig } from '@app/config';
import { Global, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { AccessTokenService, jwtModuleOptions } from './access-token.service';
import { ApiKeyRegistry } from './api-key-registry';
import { AuthenticationGuard } from './authentication.guard';
import { CredentialResolvers } from './credential-resolvers';
import { PasswordHasher } from './password-hasher';
import { PasswordPolicy } from './password-policy';
import { SessionRegistry } from './session-registry';
import { OneTimeTokenService } from './one-time-token.service';

/** Credentials and the authentication guard (the api registers it globally, before authorization). */
@Global()
@Module({
  imports: [JwtModule.registerAsync({ inject: [AppConfig], useFactory: jwtModuleOptions })],
  providers: [
    AccessTokenService,
    ApiKeyRegistry,
    PasswordHasher,
    PasswordPolicy,
    SessionRegistry,
    AuthenticationGuard,
    OneTimeTokenService,
    CredentialResolvers,
  ],
  exports: [
    CredentialResolvers,
    AccessTokenService,
    ApiKeyRegistry,
    AuthenticationGuard,
    PasswordHasher,
    PasswordPolicy,
    SessionRegistry,
    OneTimeTokenService,
  ],
})
export class AuthModule {}
