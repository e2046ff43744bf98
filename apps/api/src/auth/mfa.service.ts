import { AuditService } from '@app/audit';
import { PasswordHasher, SecretBox, sha256, type UserPrincipal } from '@app/auth';
import { ValidationProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { TenantTransaction, User } from '@app/database';
import { ConflictException, Injectable, UnauthorizedException } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { toDataURL } from 'qrcode';
import type { EntityManager } from 'typeorm';
import { AuthService, INVALID_CREDENTIALS } from './auth.service';
import type { MfaStatusDto, TotpSetupDto } from './dto/mfa.dto';
import type { TokenResponseDto } from './dto/token-response.dto';
import { OneTimeTokenService } from './one-time-token.service';
import { SessionService } from './session.service';

const PERIOD_SECONDS = 30;
const RECOVERY_CODE_COUNT = 10;
// No 0/o, 1/l/i: codes are read from paper.
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function newRecoveryCode(): string {
  const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]);
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}

/**
 * TOTP (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step) and recovery codes. The secret is sealed with
 * AES-256-GCM, bound to its user. An accepted code's time step is stored, so no code works twice.
 */
@Injectable()
export class MfaService {
  private readonly box: SecretBox;

  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly hasher: PasswordHasher,
    private readonly oneTimeTokens: OneTimeTokenService,
    private readonly sessions: SessionService,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
  ) {
    this.box = new SecretBox(config.auth.mfaEncryptionKey);
  }

  async status(userId: string): Promise<MfaStatusDto> {
    const user = await this.loadUser(userId);
    return {
      enabled: user.mfaEnabled,
      methods: user.mfaEnabled ? ['totp', 'recovery_code'] : [],
      recoveryCodesRemaining: user.mfaEnabled ? user.recoveryCodeHashes.length : 0,
    };
  }

  /** Starts enrolment: a new secret, not active until a code from it is confirmed. */
  async setup(userId: string): Promise<TotpSetupDto> {
    const secret = new Secret({ size: 20 });
    const user = await this.transactions.runAsSystem(async (manager) => {
      const current = await manager.findOneByOrFail(User, { id: userId });
      if (current.mfaEnabled) throw new ConflictException('TOTP is already enabled. Disable it first to enrol again.');
      await manager.update(
        User,
        { id: userId },
        { totpSecretEncrypted: this.box.seal(secret.base32, userId), totpLastUsedStep: null },
      );
      return current;
    });
    const otpauthUrl = this.totp(secret, user.email).toString();
    return { secret: secret.base32, otpauthUrl, qrCode: await toDataURL(otpauthUrl) };
  }

  async enable(userId: string, code: string): Promise<string[]> {
    return this.transactions.runAsSystem(async (manager) => {
      const user = await manager.findOneByOrFail(User, { id: userId });
      if (user.mfaEnabled) throw new ConflictException('TOTP is already enabled.');
      if (!user.totpSecretEncrypted) throw new ConflictException('Call /auth/mfa/totp/setup first.');
      if (!(await this.acceptTotp(manager, user, code))) {
        throw new ValidationProblemException([{ field: 'code', message: 'code is not valid' }]);
      }
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      await manager.update(
        User,
        { id: userId },
        { mfaEnabled: true, recoveryCodeHashes: codes.map((c) => sha256(normaliseRecoveryCode(c))) },
      );
      await this.audit.record(
        { action: 'auth.mfa.enable', outcome: 'success', actorId: userId, targetType: 'user', targetId: userId },
        manager,
      );
      return codes;
    });
  }

  async disable(principal: UserPrincipal, password: string, code: string): Promise<void> {
    const user = await this.loadUser(principal.userId);
    if (!user.mfaEnabled) throw new ConflictException('TOTP is not enabled.');
    await this.requirePassword(user, password);
    await this.transactions
      .runAsSystem(async (manager) => {
        if (!(await this.acceptCode(manager, user, code))) {
          await this.audit.record(
            { action: 'auth.mfa.disable', outcome: 'failure', actorId: user.id, targetType: 'user', targetId: user.id },
            manager,
          );
          return false;
        }
        await manager.update(
          User,
          { id: user.id },
          { mfaEnabled: false, totpSecretEncrypted: null, totpLastUsedStep: null, recoveryCodeHashes: [] },
        );
        await this.audit.record(
          { action: 'auth.mfa.disable', outcome: 'success', actorId: user.id, targetType: 'user', targetId: user.id },
          manager,
        );
        return true;
      })
      .then((ok) => {
        if (!ok) throw new ValidationProblemException([{ field: 'code', message: 'code is not valid' }]);
      });
  }

  async regenerateRecoveryCodes(userId: string, password: string): Promise<string[]> {
    const user = await this.loadUser(userId);
    if (!user.mfaEnabled) throw new ConflictException('TOTP is not enabled.');
    await this.requirePassword(user, password);
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.transactions.runAsSystem(async (manager) => {
      await manager.update(
        User,
        { id: userId },
        { recoveryCodeHashes: codes.map((c) => sha256(normaliseRecoveryCode(c))) },
      );
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

  /** Second step of sign-in. The mfa_token dies on first use, right or wrong; a wrong code counts toward lockout. */
  async completeLogin(mfaToken: string, code: string): Promise<TokenResponseDto> {
    const result = await this.transactions.runAsSystem(async (manager) => {
      const userId = await this.oneTimeTokens.consume(manager, mfaToken, 'mfa_challenge');
      if (!userId) return undefined;
      const user = await manager.findOneByOrFail(User, { id: userId });
      const locked = user.lockedUntil !== null && user.lockedUntil.getTime() > Date.now();
      if (!user.isActive || !user.mfaEnabled || locked || !(await this.acceptCode(manager, user, code))) {
        return { failed: user };
      }
      await manager.update(User, { id: user.id }, { lastLoginAt: new Date(), failedLoginAttempts: 0 });
      const response = await this.sessions.open(manager, user.id, 'password+mfa');
      await this.audit.record(
        {
          action: 'auth.login',
          outcome: 'success',
          actorId: user.id,
          targetType: 'user',
          targetId: user.id,
          metadata: { mfa: true },
        },
        manager,
      );
      return { response };
    });
    if (!result) throw new UnauthorizedException('The MFA token is invalid or expired. Sign in again.');
    if (!result.response) {
      if (result.failed) await this.auth.recordMfaFailure(result.failed);
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    return result.response;
  }

  private async acceptCode(manager: EntityManager, user: User, code: string): Promise<boolean> {
    if (/^\d{6}$/.test(code)) return this.acceptTotp(manager, user, code);
    const hash = sha256(normaliseRecoveryCode(code));
    if (!user.recoveryCodeHashes.includes(hash)) return false;
    // Single use: remove it atomically, so two concurrent uses cannot both pass.
    const result = await manager.query<[unknown[], number]>(
      `UPDATE users SET recovery_code_hashes = array_remove(recovery_code_hashes, $2) WHERE id = $1 AND $2 = ANY(recovery_code_hashes)`,
      [user.id, hash],
    );
    return result[1] === 1;
  }

  private async acceptTotp(manager: EntityManager, user: User, code: string): Promise<boolean> {
    if (!user.totpSecretEncrypted) return false;
    const secret = Secret.fromBase32(this.box.open(user.totpSecretEncrypted, user.id));
    const now = Date.now();
    const delta = this.totp(secret, user.email).validate({ token: code, timestamp: now, window: 1 });
    if (delta === null) return false;
    const step = Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
    // Replay protection: a step at or before the last accepted one is refused.
    const result = await manager.query<[unknown[], number]>(
      `UPDATE users SET totp_last_used_step = $2 WHERE id = $1 AND (totp_last_used_step IS NULL OR totp_last_used_step < $2)`,
      [user.id, step],
    );
    return result[1] === 1;
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

  private async requirePassword(user: User, password: string): Promise<void> {
    if (!(await this.hasher.verify(user.passwordHash, password))) {
      throw new ValidationProblemException([{ field: 'password', message: 'password is not correct' }]);
    }
  }

  private loadUser(userId: string): Promise<User> {
    return this.transactions.runAsSystem((manager) => manager.findOneByOrFail(User, { id: userId }));
  }
}
