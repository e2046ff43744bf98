import { AuditService } from '@app/audit';
import { PasswordHasher, PasswordPolicy, type UserPrincipal } from '@app/auth';
import { newId, ProblemException, ValidationProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { TenantTransaction, User } from '@app/database';
import { ConflictException, HttpStatus, Injectable, UnauthorizedException } from '@nestjs/common';
import { QueryFailedError, type EntityManager } from 'typeorm';
import { UserDto } from '../users/dto/user.dto';
import { AccountMailer } from './account-mailer';
import type { LoginDto } from './dto/credentials.dto';
import type { RegisterDto } from './dto/register.dto';
import type { MfaChallengeDto, TokenResponseDto } from './dto/token-response.dto';
import { OneTimeTokenService } from './one-time-token.service';
import { SessionService } from './session.service';

/** One message for every failed sign-in, so the answer never tells which part was wrong. */
export const INVALID_CREDENTIALS = 'Invalid email or password.';

type LoginOutcome =
  | { kind: 'tokens'; response: TokenResponseDto }
  | { kind: 'mfa'; response: MfaChallengeDto }
  | { kind: 'refused'; lockedNow?: User }
  | { kind: 'unverified' };

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
  ) {}

  /** Throws a 400 naming every rule the password breaks. */
  assertAcceptablePassword(
    password: string,
    context: { email?: string | null; fullName?: string | null },
    field: string,
  ) {
    const problems = this.policy.check(password, context);
    if (problems.length > 0) {
      throw new ValidationProblemException(
        problems.map((problem) => ({ field, message: `${field} ${problem}` })),
        'The password does not meet the password policy.',
      );
    }
  }

  async register(dto: RegisterDto): Promise<UserDto> {
    this.assertAcceptablePassword(dto.password, dto, 'password');
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
        return { user: await manager.findOneByOrFail(User, { id: user.id }), token };
      });
    } catch (error) {
      // Two registrations racing for one address: the unique index decides.
      if (error instanceof QueryFailedError && (error.driverError as { code?: string }).code === '23505') {
        throw new ConflictException('An account with this email already exists.');
      }
      throw error;
    }
    await this.mailer.verification(created.user, created.token);
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
      await this.hasher.burn(dto.password);
      await this.audit.record({ action: 'auth.login', outcome: 'failure', metadata: { reason: 'unknown_email' } });
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    const now = Date.now();
    const locked = user.lockedUntil !== null && user.lockedUntil.getTime() > now;
    const passwordOk = await this.hasher.verify(user.passwordHash, dto.password);
    const outcome: LoginOutcome = await this.transactions.runAsSystem(async (manager) => {
      if (locked) {
        await this.recordFailure(manager, user, 'locked');
        return { kind: 'refused' };
      }
      if (!passwordOk) {
        const lockedNow = await this.countFailure(manager, user);
        return { kind: 'refused', lockedNow };
      }
      if (!user.isActive) {
        await this.recordFailure(manager, user, 'deactivated');
        return { kind: 'refused' };
      }
      if (this.config.auth.requireVerifiedEmail && !user.emailVerifiedAt) {
        await this.recordFailure(manager, user, 'email_not_verified');
        return { kind: 'unverified' };
      }
      const changes: Partial<User> = { failedLoginAttempts: 0, lockedUntil: null };
      if (user.passwordHash && this.hasher.needsRehash(user.passwordHash)) {
        changes.passwordHash = await this.hasher.hash(dto.password);
      }
      if (user.mfaEnabled) {
        // The failure count is reset only when the second factor succeeds too; otherwise each
        // password success would wipe the count of wrong codes and allow guessing them forever.
        delete changes.failedLoginAttempts;
        delete changes.lockedUntil;
        if (changes.passwordHash) await manager.update(User, { id: user.id }, changes);
        const token = await this.oneTimeTokens.issue(manager, user.id, 'mfa_challenge', this.config.auth.mfaTokenTtl);
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
        return { kind: 'mfa', response: { mfa_required: true, mfa_token: token, methods: ['totp', 'recovery_code'] } };
      }
      await manager.update(User, { id: user.id }, { ...changes, lastLoginAt: new Date() });
      const response = await this.sessions.open(manager, user.id, 'password');
      await this.audit.record(
        { action: 'auth.login', outcome: 'success', actorId: user.id, targetType: 'user', targetId: user.id },
        manager,
      );
      return { kind: 'tokens', response };
    });
    switch (outcome.kind) {
      case 'tokens':
      case 'mfa':
        return outcome.response;
      case 'unverified':
        throw new ProblemException({
          status: HttpStatus.FORBIDDEN,
          slug: 'email-not-verified',
          title: 'Email not verified',
          detail: 'Confirm your email address before signing in.',
        });
      case 'refused':
        if (outcome.lockedNow) await this.mailer.lockout(outcome.lockedNow);
        throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
  }

  /** Counts a wrong password atomically; locks the account when the threshold is reached. */
  private async countFailure(manager: EntityManager, user: User): Promise<User | undefined> {
    const { lockoutThreshold, lockoutDurationSeconds } = this.config.auth;
    // An expired lock starts a fresh count.
    const rows = await manager.query<Array<{ failed_login_attempts: number; locked_until: Date | null }>>(
      `UPDATE users SET
         failed_login_attempts = CASE WHEN locked_until IS NOT NULL AND locked_until <= now() THEN 1
                                      ELSE failed_login_attempts + 1 END,
         locked_until = CASE
           WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= now() THEN 1 ELSE failed_login_attempts + 1 END) >= $2
             THEN now() + make_interval(secs => $3)
           WHEN locked_until IS NOT NULL AND locked_until <= now() THEN NULL
           ELSE locked_until END
       WHERE id = $1
       RETURNING failed_login_attempts, locked_until`,
      [user.id, lockoutThreshold, lockoutDurationSeconds],
    );
    const row = Array.isArray(rows[0]) ? (rows[0] as typeof rows)[0] : rows[0];
    const lockedNow = row?.locked_until != null && row.failed_login_attempts === lockoutThreshold;
    await this.recordFailure(manager, user, 'wrong_password');
    if (lockedNow) {
      await this.audit.record(
        {
          action: 'auth.lockout',
          outcome: 'success',
          actorId: user.id,
          targetType: 'user',
          targetId: user.id,
          metadata: { attempts: row?.failed_login_attempts, seconds: lockoutDurationSeconds },
        },
        manager,
      );
      return user;
    }
    return undefined;
  }

  /** A wrong second factor counts like a wrong password (and can lock the account). */
  async recordMfaFailure(user: User): Promise<void> {
    const lockedNow = await this.transactions.runAsSystem((manager) => this.countFailure(manager, user));
    if (lockedNow) await this.mailer.lockout(lockedNow);
  }

  private recordFailure(manager: EntityManager, user: User, reason: string): Promise<void> {
    return this.audit.record(
      {
        action: 'auth.login',
        outcome: 'failure',
        actorId: user.id,
        targetType: 'user',
        targetId: user.id,
        metadata: { reason },
      },
      manager,
    );
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
