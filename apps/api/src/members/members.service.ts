import { AuditService, type AuditActor } from '@app/audit';
import { ApiKeyRegistry, type UserPrincipal } from '@app/auth';
import { revokeKeysOfDeparted } from '../api-keys/api-keys.service';
import { newId, ProblemException, ValidationProblemException } from '@app/common';
import {
  Organization,
  OrganizationMember,
  Role,
  RoleAssignment,
  RolePermission,
  TenantTransaction,
  User,
} from '@app/database';
import { permissionDenied, PermissionResolver, PlatformAdmins, SYSTEM_ROLES } from '@app/rbac';
import { ConflictException, HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import { In, IsNull, type EntityManager } from 'typeorm';
import type { Page, Slice } from '../common/page-query.dto';
import type { MemberDto } from './dto/member.dto';
import { describeMembers } from './member-view';
import { MEMBER_COUNT_SQL, MEMBER_PAGE_SQL } from './member-page-sql';
import { windowPage } from '../common/window-page';
import { MemberMailer } from './member-mailer';

const OWNER_ROLE_ID = SYSTEM_ROLES.owner.id;

/**
 * Organization membership and organization roles. Rules: nobody grants or takes away a role
 * holding a permission they lack themselves (so only owners make or unmake owners), and the last
 * owner can be neither removed nor demoted.
 */
@Injectable()
export class MembersService {
  constructor(
    private readonly transactions: TenantTransaction,
    private readonly permissions: PermissionResolver,
    private readonly audit: AuditService,
    private readonly keys: ApiKeyRegistry,
    private readonly admins: PlatformAdmins,
    private readonly mailer: MemberMailer,
  ) {}

  /**
   * Adds an existing account directly, without an invitation, only where that takes nothing from
   * the person they did not already give: they share an organization with the actor (so the actor
   * already sees their name and email), or a platform admin does it. Platform admins themselves
   * join only by an invitation they accept (a direct add would hand an organization a writing
   * operator). Anyone else gets the same 404 as an unknown id: invite them by email instead.
   * The person is told by mail either way.
   */
  async add(actor: UserPrincipal, orgId: string, userId: string, roleIds?: string[]): Promise<MemberDto> {
    const wanted = roleIds && roleIds.length > 0 ? roleIds : [SYSTEM_ROLES.member.id];
    const byPlatformAdmin = await this.admins.isPlatformAdmin(actor.userId);
    const addable = await this.transactions.runAsSystem((manager) =>
      manager.query<Array<{ shared: boolean }>>(
        `SELECT EXISTS (
                  SELECT 1 FROM organization_members mine
                    JOIN organization_members theirs ON theirs.organization_id = mine.organization_id
                   WHERE mine.user_id = $1 AND theirs.user_id = u.id) AS shared
           FROM users u WHERE u.id = $2 AND u.is_active AND NOT u.is_platform_admin`,
        [actor.userId, userId],
      ),
    );
    const consent = addable[0]
      ? byPlatformAdmin
        ? 'platform-admin'
        : addable[0].shared
          ? 'shared-organization'
          : null
      : null;
    await this.transactions.run(orgId, async (manager) => {
      // The roles first: a bad request is a 400/403 whoever the person is, and says nothing about them.
      await this.assertGrantable(manager, actor.userId, orgId, wanted);
      const user = consent ? await manager.findOneBy(User, { id: userId, isActive: true }) : null;
      if (!user) throw notAddable();
      if (await manager.existsBy(OrganizationMember, { organizationId: orgId, userId })) {
        throw new ConflictException('This user is already a member.');
      }
      await this.insertMembership(manager, orgId, userId, wanted, actor.userId);
      await this.record(manager, actor, orgId, 'member.add', userId, { roleIds: wanted, via: consent });
      const organization = await manager.findOneByOrFail(Organization, { id: orgId });
      const adder = await manager.findOneBy(User, { id: actor.userId });
      await this.mailer.memberAdded(manager, user, organization.name, adder?.fullName ?? adder?.email ?? null);
    });
    await this.permissions.invalidate(orgId, userId);
    return this.getOne(orgId, userId);
  }

  async list(orgId: string, page: number, pageSize: number): Promise<Page<MemberDto>> {
    const { items, total } = await this.slice(orgId, (page - 1) * pageSize, pageSize);
    return { items, total, page, pageSize };
  }

  /** `limit` members from `offset`, longest-standing first, and how many there are. */
  slice(orgId: string, offset: number, limit: number): Promise<Slice<MemberDto>> {
    return this.transactions.run(orgId, async (manager) => {
      const { rows, total } = await windowPage<MemberDto>(
        this.transactions,
        manager,
        { page: MEMBER_PAGE_SQL, count: MEMBER_COUNT_SQL },
        [orgId],
        limit,
        offset,
      );
      return { items: rows.map(({ __total: _total, ...member }) => member), total };
    });
  }

  async remove(actor: UserPrincipal, orgId: string, userId: string): Promise<void> {
    await this.transactions.run(orgId, async (manager) => {
      const member = await manager.findOneBy(OrganizationMember, { organizationId: orgId, userId });
      if (!member) throw new NotFoundException('No such member.');
      const held = await this.heldRoleIds(manager, orgId, userId);
      // Leaving is always allowed; removing someone else needs every permission their roles carry.
      if (actor.userId !== userId) await this.assertGrantable(manager, actor.userId, orgId, held);
      await this.removeMembership(
        manager,
        orgId,
        userId,
        { actorId: actor.userId },
        actor.userId === userId ? 'member.leave' : 'member.remove',
      );
    });
    await this.permissions.invalidate(orgId, userId);
  }

  /**
   * Ends a membership inside the caller's tenant transaction: never the last active owner (409),
   * the person's API keys here revoked with it, audited as `action` by `actor`. The caller
   * invalidates the permission cache after commit. False when there was no membership.
   */
  async removeMembership(
    manager: EntityManager,
    orgId: string,
    userId: string,
    actor: AuditActor,
    action: string,
    metadata: Record<string, unknown> = {},
  ): Promise<boolean> {
    const member = await manager.findOneBy(OrganizationMember, { organizationId: orgId, userId });
    if (!member) return false;
    const held = await this.heldRoleIds(manager, orgId, userId);
    if (held.includes(OWNER_ROLE_ID)) await this.assertNotLastOwner(manager, orgId, userId);
    await manager.delete(OrganizationMember, { id: member.id });
    // If the organization's IdP provisions them, its view says so too (a later active:true brings them back).
    await manager.query(
      'UPDATE scim_users SET active = false, version = version + 1, updated_at = now() WHERE organization_id = $1 AND user_id = $2 AND active',
      [orgId, userId],
    );
    // The keys they made here stop with their membership (RLS keeps this to this organization).
    const revokedCredentials = await revokeKeysOfDeparted(
      manager,
      this.keys,
      this.audit,
      userId,
      actor,
      'owner-removed',
    );
    await this.audit.change(manager, action, orgId, actor, ['user', userId], { revokedCredentials, ...metadata });
    return true;
  }

  async setRoles(actor: UserPrincipal, orgId: string, userId: string, roleIds: string[]): Promise<MemberDto> {
    if (roleIds.length === 0) {
      throw new ValidationProblemException([{ field: 'roleIds', message: 'roleIds must name at least one role' }]);
    }
    await this.transactions.run(orgId, async (manager) => {
      if (!(await manager.existsBy(OrganizationMember, { organizationId: orgId, userId }))) {
        throw new NotFoundException('No such member.');
      }
      const held = await this.heldRoleIds(manager, orgId, userId);
      const added = roleIds.filter((id) => !held.includes(id));
      const removed = held.filter((id) => !roleIds.includes(id));
      await this.assertGrantable(manager, actor.userId, orgId, [...added, ...removed]);
      if (removed.includes(OWNER_ROLE_ID)) await this.assertNotLastOwner(manager, orgId, userId);
      if (removed.length > 0) {
        await manager.delete(RoleAssignment, { organizationId: orgId, userId, teamId: IsNull(), roleId: In(removed) });
      }
      await this.grant(manager, orgId, userId, added, actor.userId);
      await this.record(manager, actor, orgId, 'member.roles.update', userId, { added, removed });
    });
    await this.permissions.invalidate(orgId, userId);
    return this.getOne(orgId, userId);
  }

  private async getOne(orgId: string, userId: string): Promise<MemberDto> {
    return this.transactions.run(orgId, async (manager) => {
      const member = await manager.findOneByOrFail(OrganizationMember, { organizationId: orgId, userId });
      const [described] = await describeMembers(manager, orgId, null, [member]);
      if (!described) throw new NotFoundException('No such member.');
      return described;
    });
  }

  private async heldRoleIds(manager: EntityManager, orgId: string, userId: string): Promise<string[]> {
    const rows = await manager.find(RoleAssignment, { where: { organizationId: orgId, userId, teamId: IsNull() } });
    return rows.map((row) => row.roleId);
  }

  /** Makes the user a member holding `roleIds` (organization roles), inside the caller's tenant transaction. */
  async insertMembership(
    manager: EntityManager,
    orgId: string,
    userId: string,
    roleIds: string[],
    grantedByUserId: string | null,
  ): Promise<void> {
    await manager.insert(OrganizationMember, { id: newId(), organizationId: orgId, userId });
    await this.grant(manager, orgId, userId, roleIds, grantedByUserId);
  }

  private async grant(
    manager: EntityManager,
    orgId: string,
    userId: string,
    roleIds: string[],
    grantedByUserId: string | null,
  ): Promise<void> {
    for (const roleId of roleIds) {
      await manager.insert(RoleAssignment, {
        id: newId(),
        organizationId: orgId,
        userId,
        roleId,
        teamId: null,
        grantedByUserId,
      });
    }
  }

  /**
   * Each role must be an organization role visible here (a system role or one of this organization's),
   * and carry no permission `actorUserId` lacks there: 400 for an unusable role, 403 for escalation.
   */
  async assertGrantable(manager: EntityManager, actorUserId: string, orgId: string, roleIds: string[]): Promise<void> {
    if (roleIds.length === 0) return;
    const roles = await manager.find(Role, { where: { id: In(roleIds) } });
    const unusable = roleIds.filter((id) => !roles.some((role) => role.id === id && role.scope === 'organization'));
    if (unusable.length > 0) {
      throw new ValidationProblemException(
        unusable.map((id) => ({ field: 'roleIds', message: `${id} is not an organization role of this organization` })),
      );
    }
    const carried = await manager.find(RolePermission, { where: { roleId: In(roleIds) } });
    const lacking = await this.permissions.lacking(
      actorUserId,
      orgId,
      carried.map((p) => p.permissionKey),
    );
    if (lacking.length > 0) {
      throw permissionDenied(lacking, 'You cannot grant or take away a role with permissions you do not hold.');
    }
  }

  private async assertNotLastOwner(manager: EntityManager, orgId: string, userId: string): Promise<void> {
    // Lock the owner assignments so two concurrent demotions cannot both pass this check.
    const owners = await manager.find(RoleAssignment, {
      where: { organizationId: orgId, roleId: OWNER_ROLE_ID, teamId: IsNull() },
      lock: { mode: 'pessimistic_write' },
    });
    // Only active owners count: a deactivated owner cannot look after the organization.
    const others = owners.map((owner) => owner.userId).filter((id) => id !== userId);
    const activeOthers =
      others.length === 0
        ? []
        : await manager.query<unknown[]>('SELECT 1 FROM users WHERE id = ANY($1) AND is_active LIMIT 1', [others]);
    if (activeOthers.length === 0) {
      throw new ProblemException({
        status: HttpStatus.CONFLICT,
        slug: 'last-owner',
        title: 'Conflict',
        detail: 'An organization needs at least one owner: make someone else owner first.',
      });
    }
  }

  private record(
    manager: EntityManager,
    actor: UserPrincipal,
    orgId: string,
    action: string,
    userId: string,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.change(manager, action, orgId, { actorId: actor.userId }, ['user', userId], metadata);
  }
}

/** The same answer for an unknown id and for a person who must be invited: no oracle either way. */
function notAddable(): ProblemException {
  return new ProblemException({
    status: HttpStatus.NOT_FOUND,
    slug: 'invitation-required',
    title: 'Not Found',
    detail:
      'No account you can add directly has this id. Invite the person by email ' +
      '(POST /api/v1/organizations/{orgId}/invitations): they join when they accept.',
  });
}
