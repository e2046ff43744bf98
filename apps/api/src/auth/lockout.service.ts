import { AuditService } from '@app/audit';
import { PasswordHasher, sha256 } from '@app/auth';
import { ValidationProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { TenantTransaction, type User } from '@app/database';
import { LOGIN_DECOY_SLOTS } from '@app/migrations';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AccountMailer } from './account-mailer';

type UpdateResult = [Array<{ failed_login_attempts: number }>, number];

const STALE_RESERVATION_SECONDS = 60;

/** An id no account has: what the statements of a sign-in for an unknown address run against. */
const NO_ACCOUNT = '00000000-0000-0000-0000-000000000000';

/**
 * The reservation, for the accounts' table or the decoys'. The row is locked and read first, then
 * always updated: when the attempt is allowed, with the new count; when not, with what it had.
 * `FOR NO KEY UPDATE` is the lock the UPDATE takes anyway: it does not block the key-share locks of
 * inserts that reference the account (sessions, tokens, memberships), as `FOR UPDATE` would.
 */
function reserveSql(table: 'users' | 'login_decoys', key: 'id' | 'slot'): string {
  const stale = `attempt_reserved_at < now() - interval '${STALE_RESERVATION_SECONDS} seconds'`;
  return `WITH prior AS (
      SELECT ${key} AS key, coalesce(
               (locked_until IS NULL OR locked_until <= now())
               AND (failed_login_attempts < $2 OR locked_until <= now() OR ${stale}), false) AS allowed
        FROM ${table} WHERE ${key} = $1 FOR NO KEY UPDATE)
    UPDATE ${table} SET
      failed_login_attempts = CASE
        WHEN NOT prior.allowed THEN failed_login_attempts
        WHEN locked_until <= now() THEN 1
        WHEN failed_login_attempts >= $2 AND ${stale} THEN 1
        ELSE failed_login_attempts + 1 END,
      locked_until = CASE WHEN prior.allowed AND locked_until <= now() THEN NULL ELSE locked_until END,
      attempt_reserved_at = CASE WHEN prior.allowed THEN now() ELSE attempt_reserved_at END
      FROM prior WHERE ${table}.${key} = prior.key
    RETURNING prior.allowed AS reserved`;
}
const RESERVE_ACCOUNT = reserveSql('users', 'id');
const RESERVE_DECOY = reserveSql('login_decoys', 'slot');

/**
 * The decoy row for an address without an account: the same address always gets the same row, so
 * parallel attempts for one address wait on one row lock as they would on an account's. The address
 * arrives as the DTO left it (trimmed, lower-cased: EmailField), so its case does not change the row.
 */
export function decoySlot(address: string): number {
  return Number.parseInt(sha256(address).slice(0, 8), 16) % LOGIN_DECOY_SLOTS;
}
/**
 * Account lockout that holds under concurrency. Each check of a password or second factor first
 * reserves an attempt in one atomic UPDATE (committed at once, so parallel requests see it); a
 * locked account, or one whose attempts are all taken by requests in flight, is refused before
 * any secret is checked. A wrong secret then locks the account once the threshold is reached; a
 * right one gives the reserved attempt back. More parallel attempts than the threshold are refused
 * without locking, so a burst of genuine sign-ins cannot lock its own account.
 */
@Injectable()
export class LockoutService {
  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly audit: AuditService,
    private readonly mailer: AccountMailer,
    private readonly hasher: PasswordHasher,
  ) {}

  /**
   * A signed-in person confirms the password before a sensitive change (a step-up): a wrong one
   * counts toward the lockout and is audited; a locked account is refused without checking it.
   */
  async confirmPassword(user: User, password: string, action: string): Promise<void> {
    const reserved = await this.reserve(user);
    if (reserved && (await this.hasher.verify(user.passwordHash, password))) {
      await this.refund(user.id);
      return;
    }
    if (reserved) await this.fail(user, `wrong_password:${action}`);
    else await this.refusal(user.id, `locked:${action}`);
    throw new ValidationProblemException([{ field: 'password', message: 'password is not correct' }]);
  }

  /**
   * Reserves an attempt; false when the account is locked, or when every attempt up to the threshold
   * is already in flight (that request is refused, nothing is locked). A reservation older than a
   * minute with no outcome (its request died) no longer counts. An expired lock starts a fresh count.
   *
   * Every call writes one row and commits, whatever the answer: the account's row (rewritten
   * unchanged when the attempt is refused), or for an address without an account (`user` null) the
   * decoy row its address maps to. A commit that wrote nothing returns without waiting for the
   * write-ahead log to reach disk, so a reservation that matched no row answered about a millisecond
   * sooner and told which addresses have an account (bench/report.md, account-existence timing).
   */
  async reserve(user: User): Promise<boolean>;
  async reserve(user: null, address: string): Promise<boolean>;
  async reserve(user: User | null, address?: string): Promise<boolean> {
    const { lockoutThreshold } = this.config.auth;
    const [target, key] = user ? [RESERVE_ACCOUNT, user.id] : [RESERVE_DECOY, decoySlot(address ?? '')];
    // An UPDATE answers TypeORM's query() with [rows, how many].
    const [rows] = await this.transactions.runAsSystem((manager) =>
      manager.query<[Array<{ reserved: boolean }>, number]>(target, [key, lockoutThreshold]),
    );
    return user !== null && rows[0]?.reserved === true;
  }

  /** The reserved attempt failed: keep it counted, lock at the threshold, tell the owner. */
  async fail(user: User | null, reason: string): Promise<void> {
    const { lockoutThreshold, lockoutDurationSeconds } = this.config.auth;
    await this.transactions.runAsSystem(async (manager) => {
      const [, locked] = await manager.query<UpdateResult>(
        `UPDATE users SET locked_until = now() + make_interval(secs => $3)
          WHERE id = $1 AND failed_login_attempts >= $2 AND (locked_until IS NULL OR locked_until <= now())`,
        [user?.id ?? NO_ACCOUNT, lockoutThreshold, lockoutDurationSeconds],
      );
      await this.refusal(user?.id ?? null, reason, manager);
      if (user && locked === 1) {
        await this.recordLockout(manager, user, reason);
        await this.mailer.lockout(manager, user);
      }
    });
  }

  private recordLockout(manager: EntityManager, user: User, after: string): Promise<void> {
    const { lockoutThreshold, lockoutDurationSeconds } = this.config.auth;
    return this.audit.record(
      {
        action: 'auth.lockout',
        outcome: 'success',
        actorId: user.id,
        targetType: 'user',
        targetId: user.id,
        metadata: { threshold: lockoutThreshold, seconds: lockoutDurationSeconds, after },
      },
      manager,
    );
  }

  /** A full sign-in succeeded: clear the count, unless a lock landed meanwhile (then refuse). */
  async succeed(manager: EntityManager, userId: string): Promise<boolean> {
    const [, cleared] = await manager.query<UpdateResult>(
      `UPDATE users SET failed_login_attempts = 0, locked_until = NULL
        WHERE id = $1 AND (locked_until IS NULL OR locked_until <= now())`,
      [userId],
    );
    return cleared === 1;
  }

  /**
   * The secret was right but the sign-in is not finished (MFA still to come) or not allowed:
   * return the reserved attempt and keep earlier failures counted.
   */
  async refund(userId: string): Promise<void> {
    await this.transactions.runAsSystem((manager) =>
      manager.query(`UPDATE users SET failed_login_attempts = GREATEST(failed_login_attempts - 1, 0) WHERE id = $1`, [
        userId,
      ]),
    );
  }

  /** Records a refused attempt on its own (there is no change to join). */
  refusal(userId: string | null, reason: string, manager?: EntityManager): Promise<void> {
    return this.audit.record(
      {
        action: 'auth.login',
        outcome: 'failure',
        actorId: userId,
        targetType: userId ? 'user' : null,
        targetId: userId,
        metadata: { reason },
      },
      manager,
    );
  }
}
