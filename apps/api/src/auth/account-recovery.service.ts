import { AuditService } from '@app/audit';
import { PasswordHasher } from '@app/auth';
import { ProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { TenantTransaction, User } from '@app/database';
import { ConflictException, HttpStatus, Injectable } from '@nestjs/common';
import { AccountMailer } from './account-mailer';
import { AuthService } from './auth.service';
import { OneTimeTokenService } from './one-time-token.service';
import { SessionService } from './session.service';

function invalidToken(kind: string): ProblemException {
  return new ProblemException({
    status: HttpStatus.BAD_REQUEST,
    slug: 'invalid-token',
    title: 'Invalid or expired token',
    detail: `The ${kind} token is unknown, already used or expired.`,
  });
}

/** Email verification and password reset: the flows that run on a mailed one-time token. */
@Injectable()
export class AccountRecoveryService {
  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly oneTimeTokens: OneTimeTokenService,
    private readonly hasher: PasswordHasher,
    private readonly auth: AuthService,
    private readonly sessions: SessionService,
    private readonly mailer: AccountMailer,
    private readonly audit: AuditService,
  ) {}

  async verifyEmail(token: string): Promise<void> {
    const verified = await this.transactions.runAsSystem(async (manager) => {
      const userId = await this.oneTimeTokens.consume(manager, token, 'email_verification');
      if (!userId) return false;
      await manager.update(User, { id: userId }, { emailVerifiedAt: new Date() });
      await this.audit.record(
        { action: 'auth.email.verify', outcome: 'success', actorId: userId, targetType: 'user', targetId: userId },
        manager,
      );
      return true;
    });
    if (!verified) throw invalidToken('verification');
  }

  async resendVerification(userId: string): Promise<void> {
    const issued = await this.transactions.runAsSystem(async (manager) => {
      const user = await manager.findOneByOrFail(User, { id: userId });
      if (user.emailVerifiedAt) return undefined;
      const token = await this.oneTimeTokens.issue(
        manager,
        user.id,
        'email_verification',
        this.config.auth.emailVerificationTtl,
      );
      return { user, token };
    });
    if (!issued) throw new ConflictException('The email address is already verified.');
    await this.mailer.verification(issued.user, issued.token);
  }

  /** Always succeeds from the caller's point of view: whether the address exists is not disclosed. */
  async forgotPassword(email: string): Promise<void> {
    const issued = await this.transactions.runAsSystem(async (manager) => {
      const user = await manager
        .createQueryBuilder(User, 'user')
        .where('lower(user.email) = lower(:email)', { email })
        .getOne();
      await this.audit.record(
        { action: 'auth.password.reset_request', outcome: user ? 'success' : 'failure', actorId: user?.id ?? null },
        manager,
      );
      if (!user?.isActive) return undefined;
      const token = await this.oneTimeTokens.issue(
        manager,
        user.id,
        'password_reset',
        this.config.auth.passwordResetTtl,
      );
      return { user, token };
    });
    if (issued) await this.mailer.passwordReset(issued.user, issued.token);
  }

  async resetPassword(token: string, password: string): Promise<void> {
    // Validate the token before spending a hash, but consume it only with the new password.
    const result = await this.transactions.runAsSystem(async (manager) => {
      const userId = await this.oneTimeTokens.consume(manager, token, 'password_reset');
      if (!userId) return undefined;
      const user = await manager.findOneByOrFail(User, { id: userId });
      this.auth.assertAcceptablePassword(password, user, 'password');
      const passwordHash = await this.hasher.hash(password);
      await manager.update(User, { id: user.id }, { passwordHash, failedLoginAttempts: 0, lockedUntil: null });
      await this.oneTimeTokens.retireAll(manager, user.id, 'password_reset');
      const revoked = await this.sessions.revokeAll(user.id, 'password_reset', undefined, manager);
      await this.audit.record(
        {
          action: 'auth.password.reset',
          outcome: 'success',
          actorId: user.id,
          targetType: 'user',
          targetId: user.id,
          metadata: { sessionsRevoked: revoked.length },
        },
        manager,
      );
      return { userId: user.id, revoked };
    });
    if (!result) throw invalidToken('reset');
    await this.sessions.broadcastRevocation(result.revoked);
  }
}
