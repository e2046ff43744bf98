import { Module } from '@nestjs/common';
import { UsersController } from '../users/users.controller';
import { UsersService } from '../users/users.service';
import { AccountMailer } from './account-mailer';
import { AccountRecoveryService } from './account-recovery.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LockoutService } from './lockout.service';
import { MfaController } from './mfa.controller';
import { MfaService } from './mfa.service';
import { OneTimeTokenService } from './one-time-token.service';
import { SessionService } from './session.service';

/** Local identity: registration, sign-in, sessions, email verification, password reset, profile. */
@Module({
  controllers: [AuthController, MfaController, UsersController],
  providers: [
    AuthService,
    LockoutService,
    MfaService,
    AccountMailer,
    AccountRecoveryService,
    OneTimeTokenService,
    SessionService,
    UsersService,
  ],
  exports: [AuthService, SessionService, OneTimeTokenService, UsersService, AccountMailer],
})
export class IdentityModule {}
