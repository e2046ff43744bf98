import { AuditService } from '@app/audit';
import { PasswordHasher, PasswordPolicy, type UserPrincipal } from '@app/auth';
import { isUniqueViolation, newId, ProblemException, ValidationProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { TenantTransaction, User } from '@app/database';
import { ConflictException, HttpStatus, Injectable, UnauthorizedException } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { UserDto } from '../users/dto/user.dto';
import { AccountMailer } from './account-mailer';
import type { LoginDto } from './dto/credentials.dto';
import type { RegisterDto } from './dto/register.dto';
import type { MfaChallengeDto, TokenResponseDto } from './dto/token-response.dto';
import { LockoutService } from './lockout.service';
import { OneTimeTokenService } from '@app/auth';
import { SessionService } from './session.service';

/** One message for every failed sign-in, so the answer never tells which part was wrong. */
export const INVALID_CREDENTIALS = 'Invalid email or password.';

@Injectable()
export class AuthService {
  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly sessions: SessionService,
    private readonly oneTimeTokens: OneTimeTokenService,
    private readonly mailer: AccountMailer,
    private readonly audit: AuditService,
    private readonly lockout: LockoutService,
  ) {}

  /** Throws a 400 naming every rule the password breaks. */
  async assertAcceptablePassword(
    password: string,
    context: { email?: string | null; fullName?: string | null },
    field: string,
  ): Promise<void> {
    const problems = await this.policy.check(password, context);
    if (problems.length > 0) {
      throw new ValidationProblemException(
        problems.map((problem) => ({ field, message: `${field} ${problem}` })),
        'The password does not meet the password policy.',
      );
    }
  }

  async register(dto: RegisterDto): Promise<UserDto> {
    await this.assertAcceptablePassword(dto.password, dto, 'password');
    const passwordHash = await this.hasher.hash(dto.password);
    let created: { user: User; token: string };
    try {
      created = await this.transactions.runAsSystem(async (manager) => {
        const taken = await manager
          .createQueryBuilder(User, 'user')
          .where('lower(user.email) = lower(:email)', { email: dto.email })
          .getExists();
        if (taken) throw new ConflictException('An account with this email already exists.');
        const user = manager.create(User, {
          id: newId(),
          email: dto.email,
          fullName: dto.fullName ?? null,
          passwordHash,
          emailVerifiedAt: null,
        });
        await manager.insert(User, user);
        const token = await this.oneTimeTokens.issue(
          manager,
          user.id,
          'email_verification',
          this.config.auth.emailVerificationTtl,
        );
        await this.audit.record(
          { action: 'auth.register', outcome: 'success', actorId: user.id, targetType: 'user', targetId: user.id },
          manager,
        );
        const stored = await manager.findOneByOrFail(User, { id: user.id });
        await this.mailer.verification(manager, stored, token);
        return { user: stored, token };
      });
    } catch (error) {
      // Two registrations racing for one address: the unique index decides.
      if (isUniqueViolation(error)) {
        throw new ConflictException('An account with this email already exists.');
      }
      throw error;
    }
    return UserDto.from(created.user);
  }

  async login(dto: LoginDto): Promise<TokenResponseDto | MfaChallengeDto> {
    const user = await this.transactions.runAsSystem((manager) =>
      manager
        .createQueryBuilder(User, 'user')
        .where('lower(user.email) = lower(:email)', { email: dto.email })
        .getOne(),
    );
    if (!user) {
      // The same work as a wrong password for an account (reservation, a hash, the failure's own
      // transaction), so how long the refusal takes does not say whether the address has one.
      await this.lockout.reserve(null, dto.email);
      await this.hasher.burn(dto.password);
      await this.lockout.fail(null, 'unknown_email');
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    if (!(await this.lockout.reserve(user))) {
      await this.hasher.burn(dto.password);
      await this.lockout.refusal(user.id, 'locked');
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    if (!(await this.hasher.verify(user.passwordHash, dto.password))) {
      await this.lockout.fail(user, 'wrong_password');
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    if (!user.isActive) {
      await this.lockout.refund(user.id);
      await this.lockout.refusal(user.id, 'deactivated');
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    if (this.config.auth.requireVerifiedEmail && !user.emailVerifiedAt) {
      await this.lockout.refund(user.id);
      await this.lockout.refusal(user.id, 'email_not_verified');
      throw new ProblemException({
        status: HttpStatus.FORBIDDEN,
        slug: 'email-not-verified',
        title: 'Email not verified',
        detail: 'Confirm your email address before signing in.',
      });
    }
    // Stored with weaker parameters than today's: upgrade while the password is at hand.
    const rehash =
      user.passwordHash && this.hasher.needsRehash(user.passwordHash) ? await this.hasher.hash(dto.password) : null;
    const methods = await this.secondFactors(user);
    if (methods.length > 0) {
      // Half-way: the reserved attempt is returned, but earlier failures (wrong codes) stay counted.
      await this.lockout.refund(user.id);
      return this.challengeMfa(user, methods, rehash ? { passwordHash: rehash } : {});
    }
    return this.startSession(user, 'password', rehash ? { passwordHash: rehash } : {});
  }

  /**
   * The second factors the account has: TOTP with its recovery codes, and passkeys (a passkey
   * registered is a second factor for the password and for providers, unless it signs in alone).
   */
  async secondFactors(user: User): Promise<string[]> {
    const methods = user.mfaEnabled ? ['totp', 'recovery_code'] : [];
    const passkeys = await this.transactions.runAsSystem((manager) =>
      manager.query<unknown[]>('SELECT 1 FROM passkeys WHERE user_id = $1 LIMIT 1', [user.id]),
    );
    if (passkeys.length > 0) methods.push('passkey');
    return methods;
  }

  /** After a provider's sign-in: the second-factor challenge, when the account has one. */
  async secondFactorChallenge(user: User): Promise<MfaChallengeDto | undefined> {
    const methods = await this.secondFactors(user);
    return methods.length > 0 ? this.challengeMfa(user, methods) : undefined;
  }

  /** The first factor passed (password or provider): a short-lived token for the second. */
  async challengeMfa(user: User, methods: string[], changes: Partial<User> = {}): Promise<MfaChallengeDto> {
    const token = await this.transactions.runAsSystem(async (manager) => {
      if (Object.keys(changes).length > 0) await manager.update(User, { id: user.id }, changes);
      const issued = await this.oneTimeTokens.issue(manager, user.id, 'mfa_challenge', this.config.auth.mfaTokenTtl);
      await this.audit.record(
        {
          action: 'auth.login.mfa_challenge',
          outcome: 'success',
          actorId: user.id,
          targetType: 'user',
          targetId: user.id,
        },
        manager,
      );
      return issued;
    });
    return { mfa_required: true, mfa_token: token, methods };
  }

  /**
   * The last step of every sign-in: clears the failure count (refusing if a lock landed meanwhile),
   * opens the session and records the success, in one unit of work.
   */
  async startSession(
    user: User,
    authMethod: string,
    changes: Partial<User> = {},
    metadata: Record<string, unknown> = {},
  ): Promise<TokenResponseDto> {
    const response = await this.transactions.runAsSystem(async (manager) => {
      if (!(await this.lockout.succeed(manager, user.id))) return undefined;
      await manager.update(User, { id: user.id }, { ...changes, lastLoginAt: new Date() });
      const tokens = await this.sessions.open(manager, user.id, authMethod);
      await this.audit.record(
        { action: 'auth.login', outcome: 'success', actorId: user.id, targetType: 'user', targetId: user.id, metadata },
        manager,
      );
      return tokens;
    });
    if (!response) {
      await this.lockout.refusal(user.id, 'locked');
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    return response;
  }

  /**
   * Stores a new password hash inside the caller's unit of work, and retires what the old password
   * stood behind: outstanding reset links, MFA challenges and sessions (all, or all but one).
   * Returns the revoked session ids, to broadcast after the commit.
   */
  async replacePassword(
    manager: EntityManager,
    user: User,
    passwordHash: string,
    action: 'auth.password.change' | 'auth.password.reset',
    keepSessionId?: string,
  ): Promise<string[]> {
    // With MFA on, a reset must not clear a lock earned by wrong codes: whoever controls the
    // mailbox could otherwise reset, guess codes, and reset again without limit.
    const unlock =
      action === 'auth.password.reset' && !user.mfaEnabled ? { failedLoginAttempts: 0, lockedUntil: null } : {};
    await manager.update(User, { id: user.id }, { passwordHash, ...unlock });
    await this.oneTimeTokens.retireAll(manager, user.id, 'password_reset');
    await this.oneTimeTokens.retireAll(manager, user.id, 'mfa_challenge');
    const revoked = await this.sessions.revokeAll(user.id, action, keepSessionId, manager);
    await this.audit.record(
      {
        action,
        outcome: 'success',
        actorId: user.id,
        targetType: 'user',
        targetId: user.id,
        metadata: { sessionsRevoked: revoked.length },
      },
      manager,
    );
    return revoked;
  }

  async logout(principal: UserPrincipal): Promise<void> {
    await this.transactions.runAsSystem(async (manager) => {
      await this.sessions.revokeWithin(manager, [principal.sessionId], 'logout');
      await this.audit.record(
        {
          action: 'auth.logout',
          outcome: 'success',
          actorId: principal.userId,
          targetType: 'session',
          targetId: principal.sessionId,
        },
        manager,
      );
    });
    await this.sessions.broadcastRevocation([principal.sessionId]);
  }
}
