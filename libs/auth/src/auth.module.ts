import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccessTokenService } from './access-token.service';
import { AuthenticationGuard } from './authentication.guard';
import { PasswordHasher } from './password-hasher';
import { PasswordPolicy } from './password-policy';
import { SessionRegistry } from './session-registry';

/** Credentials and the global authentication guard. */
@Global()
@Module({
  providers: [
    AccessTokenService,
    PasswordHasher,
    PasswordPolicy,
    SessionRegistry,
    { provide: APP_GUARD, useClass: AuthenticationGuard },
  ],
  exports: [AccessTokenService, PasswordHasher, PasswordPolicy, SessionRegistry],
})
export class AuthModule {}
