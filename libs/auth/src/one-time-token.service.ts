import { generateSecret, sha256 } from './secret-token';
import { newId } from '@app/common';
import { OneTimeToken, type OneTimeTokenPurpose } from '@app/database';
import { Injectable } from '@nestjs/common';
import { IsNull, type EntityManager } from 'typeorm';

const PREFIX: Record<OneTimeTokenPurpose, string> = {
  email_verification: 'ev_',
  password_reset: 'pr_',
  mfa_challenge: 'mfa_',
};

/** Single-use secrets (32 random bytes, stored as SHA-256). Issuing one retires the earlier ones of its kind. */
@Injectable()
export class OneTimeTokenService {
  async issue(
    manager: EntityManager,
    userId: string,
    purpose: OneTimeTokenPurpose,
    ttlSeconds: number,
  ): Promise<string> {
    // Serialise issuers per user, so two concurrent requests cannot both leave a live token.
    await manager.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId]);
    await this.retireAll(manager, userId, purpose);
    const { token, hash } = generateSecret(PREFIX[purpose]);
    await manager.insert(OneTimeToken, {
      id: newId(),
      userId,
      purpose,
      tokenHash: hash,
      expiresAt: new Date(Date.now() + ttlSeconds * 1000),
      usedAt: null,
    });
    return token;
  }

  /** The user of a live token, without using it up. */
  async peek(manager: EntityManager, token: string, purpose: OneTimeTokenPurpose): Promise<string | undefined> {
    if (!token.startsWith(PREFIX[purpose])) return undefined;
    const row = await manager.findOneBy(OneTimeToken, { tokenHash: sha256(token), purpose });
    if (!row || row.usedAt || row.expiresAt.getTime() <= Date.now()) return undefined;
    return row.userId;
  }

  /** Marks the token used and returns its user; undefined if unknown, used, expired or of another kind. */
  async consume(manager: EntityManager, token: string, purpose: OneTimeTokenPurpose): Promise<string | undefined> {
    if (!token.startsWith(PREFIX[purpose])) return undefined;
    const row = await manager.findOne(OneTimeToken, {
      where: { tokenHash: sha256(token), purpose },
      lock: { mode: 'pessimistic_write' },
    });
    if (!row || row.usedAt || row.expiresAt.getTime() <= Date.now()) return undefined;
    await manager.update(OneTimeToken, { id: row.id }, { usedAt: new Date() });
    return row.userId;
  }

  async retireAll(manager: EntityManager, userId: string, purpose: OneTimeTokenPurpose): Promise<void> {
    await manager.update(OneTimeToken, { userId, purpose, usedAt: IsNull() }, { usedAt: new Date() });
  }
}
