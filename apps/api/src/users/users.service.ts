import { AuditService } from '@app/audit';
import { PasswordHasher, type UserPrincipal } from '@app/auth';
import { newId, ProblemException, ValidationProblemException } from '@app/common';
import { RoleAssignment, TenantTransaction, User } from '@app/database';
import { PermissionResolver, PlatformAdmins, SYSTEM_ROLES } from '@app/rbac';
import { HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import { ApiKeyRegistry, SessionRegistry } from '@app/auth';
import { revokeKeysOfDeparted } from '../api-keys/api-keys.service';
import { AuthService } from '../auth/auth.service';
import { LockoutService } from '../auth/lockout.service';
import { SessionService } from '../auth/session.service';
import type { ChangePasswordDto } from './dto/change-password.dto';
import type { UpdateProfileDto } from './dto/update-profile.dto';
import { OWN_PROFILE_SQL } from './own-profile-sql';
import { UserDto } from './dto/user.dto';
import { ADMIN_USER_SHOWN, AdminUserDto, type UserProfileDto, type UserSearchDto } from './dto/admin-user.dto';
import type { Page } from '../common/page-query.dto';
import type { EntityManager } from 'typeorm';

const OWNER_ROLE_ID = SYSTEM_ROLES.owner.id;

/**
 * The organizations where `userId` is the only active owner (owner assignments locked, so a
 * concurrent demotion or deactivation cannot slip past).
 */
export async function soleOwnerships(
  manager: EntityManager,
  userId: string,
): Promise<Array<{ id: string; name: string }>> {
  // Every owner assignment of those organizations locked first: two platform admins deactivating
  // two co-owners at once are serialised, and the second sees the first's result.
  await manager.query(
    `SELECT 1 FROM role_assignments
      WHERE role_id = $2 AND team_id IS NULL
        AND organization_id IN (SELECT organization_id FROM role_assignments
                                 WHERE user_id = $1 AND role_id = $2 AND team_id IS NULL)
      ORDER BY id FOR UPDATE`,
    [userId, OWNER_ROLE_ID],
  );
  return manager.query<Array<{ id: string; name: string }>>(
    `SELECT o.id, o.name FROM role_assignments ra
       JOIN organizations o ON o.id = ra.organization_id
      WHERE ra.user_id = $1 AND ra.role_id = $2 AND ra.team_id IS NULL
        AND NOT EXISTS (
          SELECT 1 FROM role_assignments other JOIN users u ON u.id = other.user_id
           WHERE other.organization_id = ra.organization_id AND other.role_id = $2 AND other.team_id IS NULL
             AND other.user_id <> $1 AND u.is_active)
      ORDER BY o.name
      FOR UPDATE OF ra`,
    [userId, OWNER_ROLE_ID],
  );
}
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
      const builder = manager
        .createQueryBuilder(User, 'u')
        .select(ADMIN_USER_SHOWN.fields.map((field) => `u.${field}`))
        .orderBy('u.createdAt', 'DESC')
        .addOrderBy('u.id', 'DESC');
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
      const user = await manager.findOne(User, {
        select: ADMIN_USER_SHOWN.select,
        where: { id: userId },
      });
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
  /**
   * Deactivates a user. An organization is never left without an active owner: where the user is
   * the last one, the platform admin names `successorId` (an active member there), who becomes
   * owner in the same transaction; otherwise 409 last-owner naming the organizations.
   */
  async deactivate(actorId: string, userId: string, successorId?: string): Promise<void> {
    if (actorId === userId) {
      throw new ProblemException({
        status: HttpStatus.CONFLICT,
        slug: 'cannot-deactivate-self',
        title: 'Conflict',
        detail: 'Ask another platform admin to deactivate your account.',
      });
    }
    const { revoked, handedOver } = await this.transactions.runAsSystem(async (manager) => {
      const user = await manager.findOne(User, { where: { id: userId }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw new NotFoundException('No such user.');
      if (!user.isActive) return { revoked: [] as string[], handedOver: [] as string[] };
      const handedOver = await this.handOver(manager, actorId, userId, successorId);
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
          metadata: {
            sessionsRevoked: sessionIds.length,
            revokedCredentials: keysRevoked,
            ...(handedOver.length > 0 ? { ownershipTo: successorId, organizations: handedOver } : {}),
          },
        },
        manager,
      );
      return { revoked: sessionIds, handedOver };
    });
    await this.registry.revokeUser(userId, revoked);
    await this.admins.invalidate(userId);
    await this.permissions.invalidateUser(userId);
    for (const orgId of handedOver) if (successorId) await this.permissions.invalidate(orgId, successorId);
  }

  /** Where the user is the last active owner: the successor becomes owner (audited there), or 409. */
  private async handOver(
    manager: EntityManager,
    actorId: string,
    userId: string,
    successorId: string | undefined,
  ): Promise<string[]> {
    const sole = await soleOwnerships(manager, userId);
    if (sole.length === 0) return [];
    if (!successorId) {
      throw new ProblemException({
        status: HttpStatus.CONFLICT,
        slug: 'last-owner',
        title: 'Conflict',
        detail: `This user is the last active owner of ${sole.length} organization(s): name successorId, an active member of each, to make owner in their place.`,
        extensions: { organizations: sole },
      });
    }
    if (successorId === userId) {
      throw new ValidationProblemException([{ field: 'successorId', message: 'successorId must be someone else' }]);
    }
    const eligible = await manager.query<Array<{ organization_id: string }>>(
      `SELECT m.organization_id FROM organization_members m JOIN users u ON u.id = m.user_id
        WHERE m.user_id = $1 AND u.is_active AND m.organization_id = ANY($2)`,
      [successorId, sole.map((org) => org.id)],
    );
    const missing = sole.filter((org) => !eligible.some((row) => row.organization_id === org.id));
    if (missing.length > 0) {
      throw new ProblemException({
        status: HttpStatus.CONFLICT,
        slug: 'successor-not-member',
        title: 'Conflict',
        detail: 'successorId must be an active member of every organization the user is the last owner of.',
        extensions: { organizations: missing },
      });
    }
    for (const org of sole) {
      const already = await manager.existsBy(RoleAssignment, {
        organizationId: org.id,
        userId: successorId,
        roleId: OWNER_ROLE_ID,
      });
      if (!already) {
        await manager.insert(RoleAssignment, {
          id: newId(),
          organizationId: org.id,
          userId: successorId,
          roleId: OWNER_ROLE_ID,
          teamId: null,
          grantedByUserId: actorId,
        });
      }
      await this.audit.change(manager, 'organization.owner.succession', org.id, { actorId }, ['user', successorId], {
        from: userId,
        reason: 'owner-deactivated',
      });
    }
    return sole.map((org) => org.id);
  }

  /**
   * Brings a deactivated account back (platform admins): it may sign in again and its memberships
   * count again. Sessions, refresh tokens and API keys revoked at deactivation stay revoked.
   */
  async reactivate(actorId: string, userId: string): Promise<AdminUserDto> {
    const user = await this.transactions.runAsSystem(async (manager) => {
      const row = await manager.findOne(User, {
        select: ADMIN_USER_SHOWN.select,
        where: { id: userId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!row) throw new NotFoundException('No such user.');
      if (row.isActive) return row;
      await manager.update(User, { id: userId }, { isActive: true });
      await this.audit.record(
        { action: 'user.reactivate', outcome: 'success', actorId, targetType: 'user', targetId: userId },
        manager,
      );
      return manager.findOneOrFail(User, { select: ADMIN_USER_SHOWN.select, where: { id: userId } });
    });
    await this.admins.invalidate(userId);
    await this.permissions.invalidateUser(userId);
    return AdminUserDto.fromUser(user);
  }

  /**
   * A person's own profile (GET /users/me, on every page load): one fixed statement reading only
   * what UserDto shows, never the password hash, the TOTP secret or the recovery codes.
   */
  async get(userId: string): Promise<UserDto> {
    const [user] = await this.transactions.runAsSystem((manager) =>
      this.transactions.rows<UserDto>(manager, OWN_PROFILE_SQL, [userId]),
    );
    if (!user) throw new NotFoundException('No such user.');
    return user;
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
      // The answer is the own profile, read as GET /users/me reads it.
      const [profile] = await this.transactions.rows<UserDto>(manager, OWN_PROFILE_SQL, [userId]);
      if (!profile) throw new NotFoundException('No such user.');
      return profile;
    });
    return user;
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
