import { AuditService } from '@app/audit';
import { AccessTokenService, SessionRegistry, type UserPrincipal } from '@app/auth';
import { newId, ProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { Session, TenantTransaction, User } from '@app/database';
import { HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import { IsNull } from 'typeorm';
import type { ImpersonationDto, StartImpersonationDto } from './dto/impersonation.dto';
import { StepUpService } from './step-up.service';

function refuse(status: HttpStatus, slug: string, detail: string): never {
  throw new ProblemException({
    status,
    slug,
    title: status === HttpStatus.FORBIDDEN ? 'Forbidden' : 'Conflict',
    detail,
  });
}

/**
 * Platform admins acting as a user, for support: with a reason, for a bounded time, read-only
 * unless asked otherwise. The session is the user's (shown in their session list, which they can
 * end) and names the admin; its access token carries RFC 8693's `act` claim; every audit row it
 * causes names the admin; it cannot touch the user's credentials or factors (NoImpersonation), and
 * it ends when the admin's account or platform-admin flag does. No refresh token: it ends when its
 * time is up.
 */
@Injectable()
export class ImpersonationService {
  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly tokens: AccessTokenService,
    private readonly registry: SessionRegistry,
    private readonly stepUp: StepUpService,
    private readonly audit: AuditService,
  ) {}

  async start(admin: UserPrincipal, dto: StartImpersonationDto): Promise<ImpersonationDto> {
    const minutes = dto.minutes ?? this.config.auth.impersonation.defaultMinutes;
    const refusal = async (reason: string, status: HttpStatus, slug: string, detail: string): Promise<never> => {
      await this.audit.record({
        action: 'admin.impersonation.start',
        outcome: 'failure',
        actorId: admin.userId,
        targetType: 'user',
        targetId: dto.userId,
        metadata: { reason, write: dto.write === true },
      });
      return refuse(status, slug, detail);
    };
    if (minutes > this.config.auth.impersonation.maxMinutes) {
      await refusal(
        'too_long',
        HttpStatus.CONFLICT,
        'impersonation-too-long',
        `At most ${this.config.auth.impersonation.maxMinutes} minutes (IMPERSONATION_MAX_MINUTES).`,
      );
    }
    await this.stepUp.assertRecent(admin, 'admin.impersonation.start');
    if (dto.userId === admin.userId) {
      await refusal('self', HttpStatus.CONFLICT, 'cannot-impersonate-self', 'You cannot impersonate yourself.');
    }
    const started = await this.transactions.runAsSystem(async (manager) => {
      const user = await manager.findOneBy(User, { id: dto.userId });
      if (!user) return { refused: 'not_found' as const };
      if (user.isPlatformAdmin) return { refused: 'admin' as const };
      if (!user.isActive) return { refused: 'deactivated' as const };
      const now = new Date();
      const expiresAt = new Date(now.getTime() + minutes * 60_000);
      const session = manager.create(Session, {
        id: newId(),
        userId: user.id,
        authMethod: dto.write ? 'impersonation:write' : 'impersonation:read',
        // The admin's own address and agent are not the person's to see (nor to get in an export).
        ip: null,
        userAgent: null,
        lastUsedAt: now,
        verifiedAt: now,
        expiresAt,
        revokedAt: null,
        revokedReason: null,
        impersonatorId: admin.userId,
        impersonationReason: dto.reason.trim(),
        impersonationWrite: dto.write === true,
      });
      await manager.insert(Session, session);
      await this.audit.record(
        {
          action: 'admin.impersonation.start',
          outcome: 'success',
          actorId: admin.userId,
          targetType: 'user',
          targetId: user.id,
          metadata: { sessionId: session.id, reason: session.impersonationReason, write: dto.write === true, minutes },
        },
        manager,
      );
      return { session, user };
    });
    if ('refused' in started) {
      if (started.refused === 'not_found') throw new NotFoundException('No such user.');
      return started.refused === 'admin'
        ? refusal('admin', HttpStatus.FORBIDDEN, 'cannot-impersonate-admin', 'Platform admins cannot be impersonated.')
        : refusal('deactivated', HttpStatus.CONFLICT, 'user-deactivated', 'This account is deactivated.');
    }
    const { session, user } = started;
    const ttl = Math.floor((session.expiresAt.getTime() - Date.now()) / 1000);
    return {
      access_token: this.tokens.signImpersonation(user.id, session.id, admin.userId, ttl),
      token_type: 'Bearer',
      expires_in: Math.min(ttl, this.tokens.ttlSeconds),
      session_id: session.id,
      user_id: user.id,
      write: session.impersonationWrite,
      expires_at: session.expiresAt,
    };
  }

  /**
   * A new access token for a live impersonation the same admin started (access tokens live
   * ACCESS_TOKEN_TTL; the impersonation may last longer). Another admin's session is a 404.
   */
  async token(admin: UserPrincipal, sessionId: string): Promise<ImpersonationDto> {
    const session = await this.transactions.runAsSystem((manager) =>
      manager.findOneBy(Session, { id: sessionId, impersonatorId: admin.userId, revokedAt: IsNull() }),
    );
    const ttl = session ? Math.floor((session.expiresAt.getTime() - Date.now()) / 1000) : 0;
    if (!session || ttl <= 0 || !(await this.registry.isActive(session.id, session.userId))) {
      throw new NotFoundException('No such impersonation, or it has ended.');
    }
    return {
      access_token: this.tokens.signImpersonation(session.userId, session.id, admin.userId, ttl),
      token_type: 'Bearer',
      expires_in: Math.min(ttl, this.tokens.ttlSeconds),
      session_id: session.id,
      user_id: session.userId,
      write: session.impersonationWrite,
      expires_at: session.expiresAt,
    };
  }

  /** Ends an impersonation: any platform admin may end any of them (404 for a session that is not one). */
  async end(admin: UserPrincipal, sessionId: string): Promise<void> {
    const ended = await this.transactions.runAsSystem(async (manager) => {
      const session = await manager.findOneBy(Session, { id: sessionId, revokedAt: IsNull() });
      if (!session?.impersonatorId) return false;
      await manager.update(Session, { id: sessionId }, { revokedAt: new Date(), revokedReason: 'impersonation_ended' });
      await this.audit.record(
        {
          action: 'admin.impersonation.end',
          outcome: 'success',
          actorId: admin.userId,
          targetType: 'user',
          targetId: session.userId,
          metadata: { sessionId, impersonatorId: session.impersonatorId },
        },
        manager,
      );
      return true;
    });
    if (!ended) throw new NotFoundException('No such impersonation.');
    await this.registry.revokeSessions([sessionId]);
  }
}
