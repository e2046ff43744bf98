import { Module } from '@nestjs/common';
import { UsersController } from '../users/users.controller';
import { PlatformAdminService } from '../users/platform-admin.service';
import { UsersService } from '../users/users.service';
import { AccountMailer } from './account-mailer';
import { AccountRecoveryService } from './account-recovery.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LockoutService } from './lockout.service';
import { MfaController } from './mfa.controller';
import { MfaService } from './mfa.service';
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
    SessionService,
    UsersService,
    PlatformAdminService,
  ],
  exports: [AuthService, SessionService, UsersService, AccountMailer, PlatformAdminService],
})
export class IdentityModule {}
