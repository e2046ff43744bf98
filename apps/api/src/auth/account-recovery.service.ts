import { AuditService, REQUEST_IP_KEY, REQUEST_USER_AGENT_KEY } from '@app/audit';
import { PasswordHasher } from '@app/auth';
import { ProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { TenantTransaction, User } from '@app/database';
import { PasswordResetRequestJob, type PasswordResetRequestPayload } from '@app/jobs';
import { Outbox } from '@app/queue';
import { ConflictException, HttpStatus, Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { PlatformAdminService } from '../users/platform-admin.service';
import { AccountMailer } from './account-mailer';
import { AuthService } from './auth.service';
import { OneTimeTokenService } from '@app/auth';
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
    private readonly outbox: Outbox,
    private readonly cls: ClsService,
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

  /**
   * Always succeeds from the caller's point of view: whether the address exists is not disclosed,
   * neither by the answer nor by the time it takes. The request does the same work for any address
   * (one outbox row); the job looks the account up, issues the token and queues the mail, after the
   * answer has gone (in the worker with Redis; in-process, on a later turn of the event loop).
   */
  async forgotPassword(email: string): Promise<void> {
    const request: PasswordResetRequestPayload = {
      email,
      ip: this.cls.get<string | null>(REQUEST_IP_KEY) ?? null,
      userAgent: this.cls.get<string | null>(REQUEST_USER_AGENT_KEY) ?? null,
      requestId: this.cls.getId() ?? null,
    };
    await this.transactions.runAsSystem((manager) => this.outbox.add(manager, PasswordResetRequestJob, request));
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
