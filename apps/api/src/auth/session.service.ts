import { AuditService } from '@app/audit';
import { AccessTokenService, generateSecret, SessionRegistry, sha256 } from '@app/auth';
import { newId } from '@app/common';
import { AppConfig } from '@app/config';
import { RefreshToken, Session, TenantTransaction, User } from '@app/database';
import { Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { In, IsNull, MoreThan, Not, type EntityManager } from 'typeorm';
import type { SessionDto } from './dto/session.dto';
import type { TokenResponseDto } from './dto/token-response.dto';
import { requestOrigin } from './request-origin';

const REFRESH_PREFIX = 'rt_';

type RefreshOutcome =
  | { kind: 'ok'; response: TokenResponseDto }
  | { kind: 'invalid'; endedSessionId?: string }
  | { kind: 'reused'; sessionId: string };

/**
 * Sessions are refresh-token families. Every refresh rotates the token; presenting a token that
 * was already rotated means it leaked (or raced): the whole family is revoked (OAuth 2.0 security
 * BCP, refresh token rotation with reuse detection).
 */
@Injectable()
export class SessionService {
  constructor(
    private readonly config: AppConfig,
    private readonly tokens: AccessTokenService,
    private readonly registry: SessionRegistry,
    private readonly transactions: TenantTransaction,
    private readonly audit: AuditService,
    private readonly cls: ClsService,
  ) {}

  /** Opens a session and issues its first token pair, inside the caller's unit of work. */
  async open(manager: EntityManager, userId: string, authMethod: string): Promise<TokenResponseDto> {
    const now = new Date();
    const session = manager.create(Session, {
      id: newId(),
      userId,
      authMethod,
      ...requestOrigin(this.cls),
      lastUsedAt: now,
      verifiedAt: now,
      expiresAt: new Date(now.getTime() + this.config.auth.refreshTokenTtl * 1000),
      revokedAt: null,
      revokedReason: null,
    });
    await manager.insert(Session, session);
    const refreshToken = await this.issueRefreshToken(manager, session);
    return this.tokenResponse(userId, session.id, refreshToken);
  }

  async refresh(presented: string): Promise<TokenResponseDto> {
    const outcome = await this.transactions.runAsSystem((manager) => this.rotate(manager, presented));
    if (outcome.kind === 'reused') {
      await this.registry.revokeSessions([outcome.sessionId]);
      throw new UnauthorizedException('The refresh token is invalid.');
    }
    if (outcome.kind === 'invalid') {
      if (outcome.endedSessionId) await this.registry.revokeSessions([outcome.endedSessionId]);
      await this.audit.record({ action: 'auth.refresh', outcome: 'failure', metadata: { reason: 'invalid_token' } });
      throw new UnauthorizedException('The refresh token is invalid.');
    }
    return outcome.response;
  }

  private async rotate(manager: EntityManager, presented: string): Promise<RefreshOutcome> {
    if (!presented.startsWith(REFRESH_PREFIX)) return { kind: 'invalid' };
    const token = await manager.findOne(RefreshToken, {
      where: { tokenHash: sha256(presented) },
      lock: { mode: 'pessimistic_write' },
    });
    if (!token) return { kind: 'invalid' };
    const session = await manager.findOne(Session, {
      where: { id: token.sessionId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!session || session.revokedAt) return { kind: 'invalid' };
    if (token.usedAt) {
      await this.revokeWithin(manager, [session.id], 'refresh_reuse');
      await this.audit.record(
        {
          action: 'auth.refresh.reuse',
          outcome: 'failure',
          actorId: session.userId,
          targetType: 'session',
          targetId: session.id,
          metadata: { reason: 'a rotated refresh token was presented again; session revoked' },
        },
        manager,
      );
      return { kind: 'reused', sessionId: session.id };
    }
    const now = Date.now();
    const idleLimit = session.lastUsedAt.getTime() + this.config.auth.sessionIdleTimeout * 1000;
    const user = await manager.findOneBy(User, { id: session.userId });
    if (token.expiresAt.getTime() <= now || session.expiresAt.getTime() <= now || idleLimit <= now || !user?.isActive) {
      await this.revokeWithin(manager, [session.id], 'expired');
      return { kind: 'invalid', endedSessionId: session.id };
    }
    await manager.update(RefreshToken, { id: token.id }, { usedAt: new Date(now) });
    await manager.update(Session, { id: session.id }, { lastUsedAt: new Date(now) });
    const refreshToken = await this.issueRefreshToken(manager, session);
    return { kind: 'ok', response: this.tokenResponse(session.userId, session.id, refreshToken) };
  }

  async list(userId: string, currentSessionId: string): Promise<SessionDto[]> {
    const sessions = await this.transactions.runAsSystem((manager) =>
      manager.find(Session, {
        where: { userId, revokedAt: IsNull(), expiresAt: MoreThan(new Date()) },
        relations: { impersonator: true },
        order: { createdAt: 'DESC' },
      }),
    );
    return sessions.map((session) => ({
      id: session.id,
      createdAt: session.createdAt,
      lastUsedAt: session.lastUsedAt,
      expiresAt: session.expiresAt,
      ip: session.ip,
      userAgent: session.userAgent,
      current: session.id === currentSessionId,
      // Someone acting as this person is shown to them, with why; they may end it like any session.
      impersonation:
        session.impersonatorId && session.impersonator
          ? {
              by: { id: session.impersonatorId, email: session.impersonator.email },
              reason: session.impersonationReason ?? '',
              write: session.impersonationWrite,
            }
          : null,
    }));
  }

  /** Ends one of the user's sessions; another user's session id is a 404, as if it did not exist. */
  async revokeOwn(userId: string, sessionId: string): Promise<void> {
    const revoked = await this.transactions.runAsSystem(async (manager) => {
      const session = await manager.findOneBy(Session, { id: sessionId, userId, revokedAt: IsNull() });
      if (!session) return false;
      await this.revokeWithin(manager, [session.id], 'user_revoked');
      await this.audit.record(
        {
          action: 'auth.session.revoke',
          outcome: 'success',
          actorId: userId,
          targetType: 'session',
          targetId: session.id,
        },
        manager,
      );
      return true;
    });
    if (!revoked) throw new NotFoundException('No such session.');
    await this.registry.revokeSessions([sessionId]);
  }

  /** DELETE /auth/sessions: ends every other session of the caller, audited. */
  async revokeOthers(userId: string, currentSessionId: string): Promise<void> {
    const ids = await this.transactions.runAsSystem(async (manager) => {
      const revoked = await this.revokeAll(userId, 'user_revoked_others', currentSessionId, manager);
      await this.audit.record(
        {
          action: 'auth.session.revoke_others',
          outcome: 'success',
          actorId: userId,
          targetType: 'user',
          targetId: userId,
          metadata: { sessionsRevoked: revoked.length },
        },
        manager,
      );
      return revoked;
    });
    await this.registry.revokeSessions(ids);
  }

  /** Ends every session of the user except `keepSessionId` (if given). */
  async revokeAll(userId: string, reason: string, keepSessionId?: string, manager?: EntityManager): Promise<string[]> {
    const work = async (unit: EntityManager) => {
      // Their own sessions, and those they opened as a platform admin acting for someone else.
      const sessions = await unit.find(Session, {
        select: { id: true },
        where: [
          { userId, revokedAt: IsNull(), ...(keepSessionId ? { id: Not(keepSessionId) } : {}) },
          { impersonatorId: userId, revokedAt: IsNull() },
        ],
      });
      const ids = sessions.map((session) => session.id);
      await this.revokeWithin(unit, ids, reason);
      return ids;
    };
    // Inside a caller's unit of work the caller broadcasts after its commit (see broadcastRevocation).
    if (manager) return work(manager);
    const ids = await this.transactions.runAsSystem(work);
    await this.registry.revokeSessions(ids);
    return ids;
  }

  /** Ends the impersonation sessions an admin opened, inside the caller's unit of work; returns their ids. */
  async revokeImpersonationsBy(manager: EntityManager, adminId: string, reason: string): Promise<string[]> {
    const sessions = await manager.find(Session, {
      select: { id: true },
      where: { impersonatorId: adminId, revokedAt: IsNull() },
    });
    const ids = sessions.map((session) => session.id);
    await this.revokeWithin(manager, ids, reason);
    return ids;
  }

  /** Tells every replica, after the commit, that these sessions are gone. */
  broadcastRevocation(sessionIds: string[]): Promise<void> {
    return this.registry.revokeSessions(sessionIds);
  }

  async revokeWithin(manager: EntityManager, sessionIds: string[], reason: string): Promise<void> {
    if (sessionIds.length === 0) return;
    await manager.update(
      Session,
      { id: In(sessionIds), revokedAt: IsNull() },
      { revokedAt: new Date(), revokedReason: reason },
    );
  }

  private async issueRefreshToken(manager: EntityManager, session: Session): Promise<string> {
    const { token, hash } = generateSecret(REFRESH_PREFIX);
    await manager.insert(RefreshToken, {
      id: newId(),
      sessionId: session.id,
      tokenHash: hash,
      expiresAt: session.expiresAt,
      usedAt: null,
    });
    return token;
  }

  private tokenResponse(userId: string, sessionId: string, refreshToken: string): TokenResponseDto {
    return {
      access_token: this.tokens.sign(userId, sessionId),
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: this.tokens.ttlSeconds,
    };
  }
}
