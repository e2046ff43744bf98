import { Global, Module } from '@nestjs/common';
import { AccessTokenService } from './access-token.service';
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
