import { AuditService } from '@app/audit';
import type { UserPrincipal } from '@app/auth';
import { ProblemException, ValidationProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { TenantTransaction, User } from '@app/database';
import { HttpStatus, Injectable } from '@nestjs/common';
import type { StepUpStatusDto } from './dto/passkey.dto';
import { AuthService } from './auth.service';
import { LockoutService } from './lockout.service';
import { MfaService } from './mfa.service';

/**
 * Recent proof of presence for sensitive changes (sudo mode): the session's sign-in, or a later
 * step-up with the password or a passkey, at most STEP_UP_MAX_AGE ago. A stolen access token
 * alone cannot add a passkey or delete the account once that window has passed. API keys never
 * qualify: they are not a person.
 */
@Injectable()
export class StepUpService {
  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly lockout: LockoutService,
    private readonly audit: AuditService,
    private readonly auth: AuthService,
    private readonly mfa: MfaService,
  ) {}

  async status(principal: UserPrincipal): Promise<StepUpStatusDto> {
    const verifiedAt = await this.verifiedAt(principal);
    return { verifiedAt, validUntil: new Date(verifiedAt.getTime() + this.config.auth.stepUpMaxAge * 1000) };
  }

  /** Refuses (403 `step-up-required`, audited) unless the session proved presence recently. */
  async assertRecent(principal: UserPrincipal, action: string): Promise<void> {
    // An impersonation proves nothing about the person: it never counts as their presence.
    const verifiedAt = principal.impersonator ? new Date(0) : await this.verifiedAt(principal);
    if (Date.now() - verifiedAt.getTime() <= this.config.auth.stepUpMaxAge * 1000) return;
    await this.audit.record({
      action,
      outcome: 'failure',
      actorId: principal.userId,
      targetType: 'user',
      targetId: principal.userId,
      metadata: { reason: 'step_up_required' },
    });
    throw new ProblemException({
      status: HttpStatus.FORBIDDEN,
      slug: 'step-up-required',
      title: 'Step-up required',
      detail:
        'Confirm it is you first: POST /api/v1/auth/step-up with your password or a passkey, then send this again.',
      extensions: { max_age: this.config.auth.stepUpMaxAge },
    });
  }

  /**
   * The password, and the second factor when the account has one: TOTP (or a recovery code) in
   * `code`; an account whose only second factor is a passkey steps up with the passkey instead.
   * A password alone must not be enough to add a passkey that then signs in without the TOTP.
   */
  async withPassword(principal: UserPrincipal, password: string, code?: string): Promise<StepUpStatusDto> {
    const user = await this.transactions.runAsSystem((manager) =>
      manager.findOneByOrFail(User, { id: principal.userId }),
    );
    await this.lockout.confirmPassword(user, password, 'auth.step_up');
    const factors = await this.auth.secondFactors(user);
    if (factors.includes('totp')) {
      if (!(await this.mfa.confirmCode(user, code))) {
        throw new ValidationProblemException([
          { field: 'code', message: 'code must be a current TOTP code or a recovery code of this account' },
        ]);
      }
      return this.verified(principal, 'password+mfa');
    }
    if (factors.includes('passkey')) {
      await this.audit.record({
        action: 'auth.step_up',
        outcome: 'failure',
        actorId: user.id,
        targetType: 'user',
        targetId: user.id,
        metadata: { method: 'password', reason: 'second_factor_required' },
      });
      throw new ValidationProblemException([
        { field: 'passkey', message: 'this account has a passkey: step up with it (POST /auth/step-up/options)' },
      ]);
    }
    return this.verified(principal, 'password');
  }

  /** Records the proof on the session (the passkey's assertion was checked by the caller). */
  async verified(principal: UserPrincipal, method: 'password' | 'password+mfa' | 'passkey'): Promise<StepUpStatusDto> {
    await this.transactions.runAsSystem(async (manager) => {
      await manager.query('UPDATE sessions SET verified_at = now() WHERE id = $1 AND user_id = $2', [
        principal.sessionId,
        principal.userId,
      ]);
      await this.audit.record(
        {
          action: 'auth.step_up',
          outcome: 'success',
          actorId: principal.userId,
          targetType: 'user',
          targetId: principal.userId,
          metadata: { method },
        },
        manager,
      );
    });
    return this.status(principal);
  }

  private async verifiedAt(principal: UserPrincipal): Promise<Date> {
    const rows = await this.transactions.runAsSystem((manager) =>
      manager.query<Array<{ verified_at: Date }>>(
        'SELECT verified_at FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL',
        [principal.sessionId, principal.userId],
      ),
    );
    // The guard has just checked the session; a row gone meanwhile counts as never verified.
    return rows[0] ? new Date(rows[0].verified_at) : new Date(0);
  }
}
