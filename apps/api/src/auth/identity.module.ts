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
import { ImpersonationController } from './impersonation.controller';
import { ImpersonationService } from './impersonation.service';
import { PasskeyController } from './passkey.controller';
import { PasskeyService, WebAuthnChallenges } from './passkey.service';
import { SessionService } from './session.service';
import { StepUpService } from './step-up.service';

/** Local identity: registration, sign-in, sessions, email verification, password reset, profile. */
@Module({
  controllers: [AuthController, MfaController, PasskeyController, ImpersonationController, UsersController],
  providers: [
    AuthService,
    LockoutService,
    MfaService,
    PasskeyService,
    WebAuthnChallenges,
    StepUpService,
    ImpersonationService,
    AccountMailer,
    AccountRecoveryService,
    SessionService,
    UsersService,
    PlatformAdminService,
  ],
  exports: [AuthService, SessionService, StepUpService, UsersService, AccountMailer, PlatformAdminService],
})
export class IdentityModule {}
