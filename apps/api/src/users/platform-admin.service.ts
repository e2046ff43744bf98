import { AuditService } from '@app/audit';
import { ProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { TenantTransaction, User } from '@app/database';
import { PlatformAdmins } from '@app/rbac';
import { HttpStatus, Injectable, Logger, NotFoundException, type OnApplicationBootstrap } from '@nestjs/common';
import { Raw, type EntityManager } from 'typeorm';
import { SessionService } from '../auth/session.service';
import type { ShownRow } from '../common/shown-fields';
import { ADMIN_USER_SHOWN } from './dto/admin-user.dto';

type AdminUserRow = ShownRow<typeof ADMIN_USER_SHOWN>;

export type GrantChannel = 'api' | 'cli' | 'bootstrap';

/**
 * The platform-admin flag. Set through the api by another platform admin, by the CLI
 * (`npm run cli -- admin:grant <email>`), or for BOOTSTRAP_ADMIN_EMAIL once that address is verified;
 * never by registration order. The last active platform admin cannot be revoked.
 */
@Injectable()
export class PlatformAdminService implements OnApplicationBootstrap {
  private readonly logger = new Logger('PlatformAdmin');

  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly admins: PlatformAdmins,
    private readonly audit: AuditService,
    private readonly sessions: SessionService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const email = this.config.auth.bootstrapAdminEmail;
    if (!email) return;
    const user = await this.transactions.runAsSystem((manager) => findByEmail(manager, email));
    if (!user?.emailVerifiedAt) {
      this.logger.warn(`BOOTSTRAP_ADMIN_EMAIL: no verified account for it yet; it is granted once verified`);
      return;
    }
    if (!user.isPlatformAdmin) await this.set(null, user.id, true, 'bootstrap');
  }

  /** Called when a user verifies their email: the bootstrap address becomes platform admin then. */
  async onEmailVerified(userId: string, email: string): Promise<void> {
    if (this.config.auth.bootstrapAdminEmail && email.toLowerCase() === this.config.auth.bootstrapAdminEmail) {
      await this.set(null, userId, true, 'bootstrap');
    }
  }

  async setByEmail(email: string, value: boolean, via: GrantChannel): Promise<AdminUserRow> {
    const user = await this.transactions.runAsSystem((manager) => findByEmail(manager, email));
    if (!user) throw new NotFoundException(`No user with the email ${email}.`);
    return this.set(null, user.id, value, via);
  }

  /** Grants or revokes; idempotent; audited with who did it and through which channel. */
  async set(actorId: string | null, userId: string, value: boolean, via: GrantChannel): Promise<AdminUserRow> {
    let endedImpersonations: string[] = [];
    const user = await this.transactions.runAsSystem(async (manager) => {
      // Serialise all flag changes, so two admins revoking each other cannot leave none.
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['platform-admins']);
      // What the answer shows (AdminUserDto), not the account's credentials.
      const target = await manager.findOne(User, { select: ADMIN_USER_SHOWN.select, where: { id: userId } });
      if (!target) throw new NotFoundException('No such user.');
      if (target.isPlatformAdmin === value) return target;
      if (!value) {
        const others = await manager.count(User, { where: { isPlatformAdmin: true, isActive: true } });
        if (others <= 1) {
          throw new ProblemException({
            status: HttpStatus.CONFLICT,
            slug: 'last-platform-admin',
            title: 'Conflict',
            detail: 'The installation needs at least one platform admin: grant someone else first.',
          });
        }
      }
      await manager.update(User, { id: userId }, { isPlatformAdmin: value });
      // Acting as someone else was a platform admin's power: it ends with the flag.
      if (!value) endedImpersonations = await this.sessions.revokeImpersonationsBy(manager, userId, 'admin_revoked');
      await this.audit.record(
        {
          action: value ? 'platform-admin.grant' : 'platform-admin.revoke',
          outcome: 'success',
          actorId,
          targetType: 'user',
          targetId: userId,
          metadata: { via },
        },
        manager,
      );
      return Object.assign(target, { isPlatformAdmin: value });
    });
    await this.admins.invalidate(userId);
    await this.sessions.broadcastRevocation(endedImpersonations);
    if (via !== 'api') this.logger.log(`${value ? 'granted' : 'revoked'} platform admin for user ${userId} (${via})`);
    return user;
  }
}

/** The account with that address (any case): its id, verification and admin flag, nothing else. */
function findByEmail(
  manager: EntityManager,
  email: string,
): Promise<Pick<User, 'id' | 'emailVerifiedAt' | 'isPlatformAdmin'> | null> {
  return manager.findOne(User, {
    select: { id: true, emailVerifiedAt: true, isPlatformAdmin: true },
    where: { email: Raw((column) => `lower(${column}) = :email`, { email: email.toLowerCase() }) },
  });
}
