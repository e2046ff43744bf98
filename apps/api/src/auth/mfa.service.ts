import { AuditService } from '@app/audit';
import { SecretBox, type UserPrincipal } from '@app/auth';
import { ValidationProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { TenantTransaction, User } from '@app/database';
import { ConflictException, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHmac, hkdfSync, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { AuthService, INVALID_CREDENTIALS } from './auth.service';
import type { MfaStatusDto, TotpSetupDto } from './dto/mfa.dto';
import type { TokenResponseDto } from './dto/token-response.dto';
import { LockoutService } from './lockout.service';
import { OneTimeTokenService } from '@app/auth';
import { SessionService } from './session.service';

const PERIOD_SECONDS = 30;
const RECOVERY_CODE_COUNT = 10;
// No 0/o, 1/l/i: codes are read from paper. 20 characters of 31 carry ~99 bits.
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const RECOVERY_LENGTH = 20;

function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function newRecoveryCode(): string {
  const chars = Array.from({ length: RECOVERY_LENGTH }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]);
  return [0, 5, 10, 15].map((start) => chars.slice(start, start + 5).join('')).join('-');
}

/**
 * TOTP (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step) and recovery codes. The secret is sealed with
 * AES-256-GCM, bound to its user. An accepted code's time step is stored, so no code works twice.
 */
@Injectable()
export class MfaService {
  private readonly box: SecretBox;
  /** Recovery codes are stored as HMAC-SHA256 under a key that is not in the database. */
  private readonly recoveryKey: Buffer;

  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly oneTimeTokens: OneTimeTokenService,
    private readonly sessions: SessionService,
    private readonly lockout: LockoutService,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
  ) {
    this.box = new SecretBox(config.auth.mfaEncryptionKey);
    this.recoveryKey = Buffer.from(hkdfSync('sha256', config.auth.mfaEncryptionKey, 'recovery-codes', 'hmac', 32));
  }

  private recoveryHash(code: string): string {
    return createHmac('sha256', this.recoveryKey).update(normaliseRecoveryCode(code)).digest('hex');
  }

  async status(userId: string): Promise<MfaStatusDto> {
    const user = await this.loadUser(userId);
    const methods = await this.auth.secondFactors(user);
    return {
      enabled: methods.length > 0,
      methods,
      recoveryCodesRemaining: user.mfaEnabled ? user.recoveryCodeHashes.length : 0,
    };
  }

  /**
   * Starts enrolment: a new secret, not active until a code from it is confirmed. Needs the password,
   * so a stolen access token alone cannot enrol the thief's authenticator.
   */
  async setup(userId: string, password: string): Promise<TotpSetupDto> {
    const user = await this.loadUser(userId);
    if (user.mfaEnabled) throw new ConflictException('TOTP is already enabled. Disable it first to enrol again.');
    await this.lockout.confirmPassword(user, password, 'auth.mfa.setup');
    const secret = new Secret({ size: 20 });
    await this.transactions.runAsSystem((manager) =>
      manager.update(
        User,
        { id: userId },
        { totpSecretEncrypted: this.box.seal(secret.base32, userId), totpLastUsedStep: null },
      ),
    );
    const otpauthUrl = this.totp(secret, user.email).toString();
    // The QR code library (with its PNG encoder) loads on the first enrolment, not at start-up.
    const { toDataURL } = await import('qrcode');
    return { secret: secret.base32, otpauthUrl, qrCode: await toDataURL(otpauthUrl) };
  }

  async enable(userId: string, code: string): Promise<string[]> {
    const codes = await this.transactions.runAsSystem(async (manager) => {
      const user = await manager.findOneOrFail(User, { where: { id: userId }, lock: { mode: 'pessimistic_write' } });
      if (user.mfaEnabled) throw new ConflictException('TOTP is already enabled.');
      if (!user.totpSecretEncrypted) throw new ConflictException('Call /auth/mfa/totp/setup first.');
      const accepted = await this.acceptTotp(user, code);
      await this.audit.record(
        {
          action: 'auth.mfa.enable',
          outcome: accepted ? 'success' : 'failure',
          actorId: userId,
          targetType: 'user',
          targetId: userId,
        },
        manager,
      );
      if (!accepted) return undefined;
      const fresh = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      await manager.update(
        User,
        { id: userId },
        { mfaEnabled: true, recoveryCodeHashes: fresh.map((c) => this.recoveryHash(c)) },
      );
      return fresh;
    });
    if (!codes) throw new ValidationProblemException([{ field: 'code', message: 'code is not valid' }]);
    return codes;
  }

  async disable(principal: UserPrincipal, password: string, code: string): Promise<void> {
    const user = await this.loadUser(principal.userId);
    if (!user.mfaEnabled) throw new ConflictException('TOTP is not enabled.');
    await this.lockout.confirmPassword(user, password, 'auth.mfa.disable');
    if (!(await this.lockout.reserve(user)) || !(await this.acceptCode(user, code))) {
      await this.lockout.fail(user, 'wrong_mfa_code');
      throw new ValidationProblemException([{ field: 'code', message: 'code is not valid' }]);
    }
    await this.transactions.runAsSystem(async (manager) => {
      await this.lockout.succeed(manager, user.id);
      await manager.update(
        User,
        { id: user.id },
        { mfaEnabled: false, totpSecretEncrypted: null, totpLastUsedStep: null, recoveryCodeHashes: [] },
      );
      await this.audit.record(
        { action: 'auth.mfa.disable', outcome: 'success', actorId: user.id, targetType: 'user', targetId: user.id },
        manager,
      );
    });
  }

  async regenerateRecoveryCodes(userId: string, password: string): Promise<string[]> {
    const user = await this.loadUser(userId);
    if (!user.mfaEnabled) throw new ConflictException('TOTP is not enabled.');
    await this.lockout.confirmPassword(user, password, 'auth.mfa.recovery_codes');
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.transactions.runAsSystem(async (manager) => {
      await manager.update(User, { id: userId }, { recoveryCodeHashes: codes.map((c) => this.recoveryHash(c)) });
      await this.audit.record(
        {
          action: 'auth.mfa.recovery_codes',
          outcome: 'success',
          actorId: userId,
          targetType: 'user',
          targetId: userId,
        },
        manager,
      );
    });
    return codes;
  }

  /**
   * Second step of sign-in. The mfa_token dies on first use, right or wrong; each code check
   * reserves a lockout attempt first, so parallel guesses cannot outrun the lock.
   */
  async completeLogin(mfaToken: string, code: string): Promise<TokenResponseDto> {
    const user = await this.takeChallenge(mfaToken);
    if (!user.isActive || !user.mfaEnabled || !(await this.acceptCode(user, code))) {
      await this.lockout.fail(user, 'wrong_mfa_code');
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    return this.auth.startSession(user, 'password+mfa', {}, { mfa: true });
  }

  /**
   * The second step's common start, whatever the factor (a code here, a passkey in PasskeyService):
   * spends the mfa_token (refused when unknown, used or expired) and reserves a lockout attempt
   * (refused when locked). The caller then checks its factor and fails or succeeds the attempt.
   */
  async takeChallenge(mfaToken: string): Promise<User> {
    const userId = await this.transactions.runAsSystem((manager) =>
      this.oneTimeTokens.consume(manager, mfaToken, 'mfa_challenge'),
    );
    if (!userId) {
      await this.lockout.refusal(null, 'invalid_mfa_token');
      throw new UnauthorizedException('The MFA token is invalid or expired. Sign in again.');
    }
    const user = await this.loadUser(userId);
    if (!(await this.lockout.reserve(user))) {
      await this.lockout.refusal(user.id, 'locked');
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    return user;
  }

  /**
   * A TOTP or recovery code as part of a step-up: counted toward the lockout like any wrong code,
   * the reserved attempt given back when it is right.
   */
  async confirmCode(user: User, code: string | undefined): Promise<boolean> {
    if (!code || !user.mfaEnabled) return false;
    if (!(await this.lockout.reserve(user))) {
      await this.lockout.refusal(user.id, 'locked:auth.step_up');
      return false;
    }
    if (!(await this.acceptCode(user, code))) {
      await this.lockout.fail(user, 'wrong_mfa_code:auth.step_up');
      return false;
    }
    await this.lockout.refund(user.id);
    return true;
  }

  private async acceptCode(user: User, code: string): Promise<boolean> {
    if (/^\d{6}$/.test(code)) return this.acceptTotp(user, code);
    const hash = this.recoveryHash(code);
    if (!user.recoveryCodeHashes.includes(hash)) return false;
    // Single use: removed atomically, so two concurrent uses cannot both pass.
    const [, removed] = await this.transactions.runAsSystem((manager) =>
      manager.query<[unknown[], number]>(
        `UPDATE users SET recovery_code_hashes = array_remove(recovery_code_hashes, $2)
          WHERE id = $1 AND $2 = ANY(recovery_code_hashes)`,
        [user.id, hash],
      ),
    );
    return removed === 1;
  }

  private async acceptTotp(user: User, code: string): Promise<boolean> {
    if (!user.totpSecretEncrypted) return false;
    const secret = Secret.fromBase32(this.box.open(user.totpSecretEncrypted, user.id));
    const now = Date.now();
    const delta = this.totp(secret, user.email).validate({ token: code, timestamp: now, window: 1 });
    if (delta === null) return false;
    const step = Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
    // Replay protection: a step at or before the last accepted one is refused.
    const [, accepted] = await this.transactions.runAsSystem((manager) =>
      manager.query<[unknown[], number]>(
        `UPDATE users SET totp_last_used_step = $2
          WHERE id = $1 AND (totp_last_used_step IS NULL OR totp_last_used_step < $2)`,
        [user.id, step],
      ),
    );
    return accepted === 1;
  }

  private totp(secret: Secret, email: string): TOTP {
    return new TOTP({
      issuer: this.config.appName,
      label: email,
      algorithm: 'SHA1',
      digits: 6,
      period: PERIOD_SECONDS,
      secret,
    });
  }

  private loadUser(userId: string): Promise<User> {
    return this.transactions.runAsSystem((manager) => manager.findOneByOrFail(User, { id: userId }));
  }
}
