import { AuditService } from '@app/audit';
import { PasswordHasher, type UserPrincipal } from '@app/auth';
import { ProblemException, ValidationProblemException } from '@app/common';
import { TenantTransaction, User } from '@app/database';
import { PermissionResolver, PlatformAdmins } from '@app/rbac';
import { HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import { ApiKeyRegistry, SessionRegistry } from '@app/auth';
import { revokeKeysOfDeparted } from '../api-keys/api-keys.service';
import { AuthService } from '../auth/auth.service';
import { LockoutService } from '../auth/lockout.service';
import { SessionService } from '../auth/session.service';
import type { ChangePasswordDto } from './dto/change-password.dto';
import type { UpdateProfileDto } from './dto/update-profile.dto';
import { UserDto } from './dto/user.dto';
import { AdminUserDto, type UserProfileDto, type UserSearchDto } from './dto/admin-user.dto';
import type { Page } from '../common/page-query.dto';

@Injectable()
export class UsersService {
  constructor(
    private readonly transactions: TenantTransaction,
    private readonly hasher: PasswordHasher,
    private readonly auth: AuthService,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
    private readonly lockout: LockoutService,
    private readonly admins: PlatformAdmins,
    private readonly registry: SessionRegistry,
    private readonly keys: ApiKeyRegistry,
    private readonly permissions: PermissionResolver,
  ) {}

  /** Platform admins: every user, newest first, optionally filtered by part of the email or name. */
  async search(query: UserSearchDto): Promise<Page<AdminUserDto>> {
    return this.transactions.runWithoutTenant(async (manager) => {
      const builder = manager.createQueryBuilder(User, 'u').orderBy('u.createdAt', 'DESC').addOrderBy('u.id', 'DESC');
      const q = query.q?.trim();
      if (q) {
        const pattern = `%${q.toLowerCase().replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
        builder.where("(lower(u.email) LIKE :pattern ESCAPE '\\' OR lower(u.full_name) LIKE :pattern ESCAPE '\\')", {
          pattern,
        });
      }
      const [users, total] = await builder
        .skip((query.page - 1) * query.pageSize)
        .take(query.pageSize)
        .getManyAndCount();
      return {
        items: users.map((user) => AdminUserDto.fromUser(user)),
        total,
        page: query.page,
        pageSize: query.pageSize,
      };
    });
  }

  /**
   * Yourself: your full view. A platform admin: the admin view. Someone sharing an organization
   * with you: a limited profile. Anyone else: 404 (whether the user exists is not revealed).
   */
  async profile(viewerId: string, userId: string): Promise<UserDto | AdminUserDto | UserProfileDto> {
    if (viewerId === userId) return this.get(userId);
    const isAdmin = await this.admins.isPlatformAdmin(viewerId);
    return this.transactions.runAsSystem(async (manager) => {
      const user = await manager.findOneBy(User, { id: userId });
      if (user && isAdmin) return AdminUserDto.fromUser(user);
      const shared = await manager.query<unknown[]>(
        `SELECT 1 FROM organization_members mine
           JOIN organization_members theirs ON theirs.organization_id = mine.organization_id
          WHERE mine.user_id = $1 AND theirs.user_id = $2 LIMIT 1`,
        [viewerId, userId],
      );
      if (!user || shared.length === 0) throw new NotFoundException('No such user.');
      return { id: user.id, email: user.email, fullName: user.fullName };
    });
  }

  /** Platform admins: the account can no longer sign in, and every session ends now, on every replica. */
  async deactivate(actorId: string, userId: string): Promise<void> {
    if (actorId === userId) {
      throw new ProblemException({
        status: HttpStatus.CONFLICT,
        slug: 'cannot-deactivate-self',
        title: 'Conflict',
        detail: 'Ask another platform admin to deactivate your account.',
      });
    }
    const revoked = await this.transactions.runAsSystem(async (manager) => {
      const user = await manager.findOne(User, { where: { id: userId }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw new NotFoundException('No such user.');
      if (!user.isActive) return [];
      await manager.update(User, { id: userId }, { isActive: false });
      const sessionIds = await this.sessions.revokeAll(userId, 'deactivated', undefined, manager);
      // Whatever acts for them goes too: their API keys, in every organization.
      const keysRevoked = await revokeKeysOfDeparted(
        manager,
        this.keys,
        this.audit,
        userId,
        { actorId },
        'owner-deactivated',
      );
      await this.audit.record(
        {
          action: 'user.deactivate',
          outcome: 'success',
          actorId,
          targetType: 'user',
          targetId: userId,
          metadata: { sessionsRevoked: sessionIds.length, revokedCredentials: keysRevoked },
        },
        manager,
      );
      return sessionIds;
    });
    await this.registry.revokeUser(userId, revoked);
    await this.admins.invalidate(userId);
    await this.permissions.invalidateUser(userId);
  }

  async get(userId: string): Promise<UserDto> {
    const user = await this.transactions.runAsSystem((manager) => manager.findOneBy(User, { id: userId }));
    if (!user) throw new NotFoundException('No such user.');
    return UserDto.from(user);
  }

  async updateProfile(userId: string, dto: UpdateProfileDto): Promise<UserDto> {
    const user = await this.transactions.runAsSystem(async (manager) => {
      if (dto.fullName !== undefined) await manager.update(User, { id: userId }, { fullName: dto.fullName });
      await this.audit.record(
        {
          action: 'user.profile.update',
          outcome: 'success',
          actorId: userId,
          targetType: 'user',
          targetId: userId,
          metadata: { fields: Object.keys(dto) },
        },
        manager,
      );
      return manager.findOneByOrFail(User, { id: userId });
    });
    return UserDto.from(user);
  }

  /** Verifies the current password, applies the policy, and signs out every other session. */
  async changePassword(principal: UserPrincipal, dto: ChangePasswordDto): Promise<void> {
    const user = await this.transactions.runAsSystem((manager) =>
      manager.findOneByOrFail(User, { id: principal.userId }),
    );
    const reserved = await this.lockout.reserve(user);
    if (!reserved || !(await this.hasher.verify(user.passwordHash, dto.currentPassword))) {
      if (reserved) await this.lockout.fail(user, 'wrong_password:auth.password.change');
      else await this.lockout.refusal(user.id, 'locked:auth.password.change');
      throw new ValidationProblemException([{ field: 'currentPassword', message: 'currentPassword is not correct' }]);
    }
    await this.lockout.refund(user.id);
    await this.auth.assertAcceptablePassword(dto.newPassword, user, 'newPassword');
    const passwordHash = await this.hasher.hash(dto.newPassword);
    const revoked = await this.transactions.runAsSystem(async (manager) => {
      const ids = await this.auth.replacePassword(
        manager,
        user,
        passwordHash,
        'auth.password.change',
        principal.sessionId,
      );
      return ids;
    });
    await this.sessions.broadcastRevocation(revoked);
  }
}
