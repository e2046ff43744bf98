import { AuditService } from '@app/audit';
import { PasswordHasher } from '@app/auth';
import { ProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { TenantTransaction, User } from '@app/database';
import { ConflictException, HttpStatus, Injectable } from '@nestjs/common';
import { PlatformAdminService } from '../users/platform-admin.service';
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
    private readonly platformAdmins: PlatformAdminService,
  ) {}

  async verifyEmail(token: string): Promise<void> {
    const verified = await this.transactions.runAsSystem(async (manager) => {
      const userId = await this.oneTimeTokens.consume(manager, token, 'email_verification');
      if (!userId) return undefined;
      await manager.update(User, { id: userId }, { emailVerifiedAt: new Date() });
      await this.audit.record(
        { action: 'auth.email.verify', outcome: 'success', actorId: userId, targetType: 'user', targetId: userId },
        manager,
      );
      return manager.findOneByOrFail(User, { id: userId });
    });
    if (!verified) {
      await this.audit.record({
        action: 'auth.email.verify',
        outcome: 'failure',
        metadata: { reason: 'invalid_token' },
      });
      throw invalidToken('verification');
    }
    await this.platformAdmins.onEmailVerified(verified.id, verified.email);
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
      await this.mailer.verification(manager, user, token);
      return { user, token };
    });
    if (!issued) throw new ConflictException('The email address is already verified.');
  }

  /** Always succeeds from the caller's point of view: whether the address exists is not disclosed. */
  async forgotPassword(email: string): Promise<void> {
    await this.transactions.runAsSystem(async (manager) => {
      const user = await manager
        .createQueryBuilder(User, 'user')
        .where('lower(user.email) = lower(:email)', { email })
        .getOne();
      await this.audit.record(
        { action: 'auth.password.reset_request', outcome: user ? 'success' : 'failure', actorId: user?.id ?? null },
        manager,
      );
      if (!user?.isActive) return;
      const token = await this.oneTimeTokens.issue(
        manager,
        user.id,
        'password_reset',
        this.config.auth.passwordResetTtl,
      );
      await this.mailer.passwordReset(manager, user, token);
    });
  }

  async resetPassword(token: string, password: string): Promise<void> {
    // Check the token and the policy, and hash, before taking any lock: the token is consumed
    // only together with the new password, so a refused password does not burn it.
    const user = await this.transactions.runAsSystem(async (manager) => {
      const userId = await this.oneTimeTokens.peek(manager, token, 'password_reset');
      return userId ? manager.findOneBy(User, { id: userId }) : null;
    });
    if (!user) {
      await this.audit.record({
        action: 'auth.password.reset',
        outcome: 'failure',
        metadata: { reason: 'invalid_token' },
      });
      throw invalidToken('reset');
    }
    await this.auth.assertAcceptablePassword(password, user, 'password');
    const passwordHash = await this.hasher.hash(password);
    const revoked = await this.transactions.runAsSystem(async (manager) => {
      if ((await this.oneTimeTokens.consume(manager, token, 'password_reset')) !== user.id) return undefined;
      const ids = await this.auth.replacePassword(manager, user, passwordHash, 'auth.password.reset');
      return ids;
    });
    if (!revoked) throw invalidToken('reset');
    await this.sessions.broadcastRevocation(revoked);
  }
}
