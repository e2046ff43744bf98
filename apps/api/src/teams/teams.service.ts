import { AuditService } from '@app/audit';
import { auditActor, type Principal, type UserPrincipal } from '@app/auth';
import { isUniqueViolation, newId, slugify, ValidationProblemException } from '@app/common';
import {
  OrganizationMember,
  Role,
  RoleAssignment,
  RolePermission,
  Team,
  TeamMember,
  TenantTransaction,
} from '@app/database';
import { permissionDenied, PermissionResolver, SYSTEM_ROLES } from '@app/rbac';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { In, type EntityManager } from 'typeorm';
import type { Page, Slice } from '../common/page-query.dto';
import type { MemberDto } from '../members/dto/member.dto';
import { describeMembers } from '../members/member-view';
import { lockDirectory, syncGroupRoles } from '../scim/scim-group-membership';
import { TeamDto, type CreateTeamDto, type UpdateTeamDto } from './dto/team.dto';
import { TEAM_MEMBERS_SQL } from '../members/member-page-sql';
import { windowPage } from '../common/window-page';
import { TEAM_COUNT_SQL, TEAM_PAGE_SQL, TEAM_SQL } from './team-page-sql';

/** Teams inside an organization, their members and their team-scoped roles. */
@Injectable()
export class TeamsService {
  constructor(
    private readonly transactions: TenantTransaction,
    private readonly permissions: PermissionResolver,
    private readonly audit: AuditService,
  ) {}

  /** Creates the team; its creator joins it as team-admin. */
  async create(actor: Principal, orgId: string, dto: CreateTeamDto): Promise<TeamDto> {
    const id = newId();
    try {
      const team = await this.transactions.run(orgId, async (manager) => {
        await manager.insert(Team, {
          id,
          organizationId: orgId,
          name: dto.name,
          slug: dto.slug ?? `${slugify(dto.name, 'team')}-${randomBytes(3).toString('hex')}`,
          description: dto.description ?? null,
        });
        // A person who may create a team runs it: team-admin holds only inside this new team.
        // (An API key creates an empty team.)
        if (actor.kind === 'user') {
          await manager.insert(TeamMember, { id: newId(), organizationId: orgId, teamId: id, userId: actor.userId });
          await this.insertAssignments(manager, actor, orgId, id, actor.userId, [SYSTEM_ROLES['team-admin'].id]);
        }
        await this.record(manager, actor, orgId, 'team.create', 'team', id, { name: dto.name });
        return this.findTeam(manager, orgId, id);
      });
      if (actor.kind === 'user') await this.permissions.invalidate(orgId, actor.userId);
      return team;
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictException('This slug is already taken in the organization.');
      throw error;
    }
  }

  async list(orgId: string, page: number, pageSize: number): Promise<Page<TeamDto>> {
    const { items, total } = await this.slice(orgId, (page - 1) * pageSize, pageSize);
    return { items, total, page, pageSize };
  }

  /** `limit` teams from `offset`, oldest first, and how many there are. */
  slice(orgId: string, offset: number, limit: number): Promise<Slice<TeamDto>> {
    return this.transactions.run(orgId, async (manager) => {
      const { rows, total } = await windowPage<TeamDto>(
        this.transactions,
        manager,
        { page: TEAM_PAGE_SQL, count: TEAM_COUNT_SQL },
        [orgId],
        limit,
        offset,
      );
      return { items: rows.map((row) => TeamDto.from(row)), total };
    });
  }

  /**
   * The members of several teams of one organization, in one unit of work and one statement
   * whatever the number of teams (GraphQL batches Team.members through this). Keyed by team id; a
   * team without members is absent.
   */
  membersOfTeams(orgId: string, teamIds: readonly string[]): Promise<Map<string, MemberDto[]>> {
    return this.transactions.run(orgId, async (manager) => {
      const byTeam = new Map<string, MemberDto[]>();
      for (const { teamId, ...member } of await this.teamMembers(manager, orgId, teamIds)) {
        const list = byTeam.get(teamId);
        if (list) list.push(member);
        else byTeam.set(teamId, [member]);
      }
      return byTeam;
    });
  }

  /** TEAM_MEMBERS_SQL's rows: each member of those teams, with the team they are listed under. */
  private teamMembers(manager: EntityManager, orgId: string, teamIds: readonly string[]) {
    return this.transactions.rows<MemberDto & { teamId: string }>(manager, TEAM_MEMBERS_SQL, [[...teamIds], orgId]);
  }

  async get(orgId: string, teamId: string): Promise<TeamDto> {
    return this.transactions.run(orgId, (manager) => this.findTeam(manager, orgId, teamId));
  }

  async update(actor: Principal, orgId: string, teamId: string, dto: UpdateTeamDto): Promise<TeamDto> {
    try {
      const team = await this.transactions.run(orgId, async (manager) => {
        await this.findTeam(manager, orgId, teamId);
        const changes = Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined));
        if (Object.keys(changes).length > 0) await manager.update(Team, { id: teamId }, changes);
        await this.record(manager, actor, orgId, 'team.update', 'team', teamId, { fields: Object.keys(changes) });
        return this.findTeam(manager, orgId, teamId);
      });
      return team;
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictException('This slug is already taken in the organization.');
      throw error;
    }
  }

  async remove(actor: Principal, orgId: string, teamId: string): Promise<void> {
    await this.transactions.run(orgId, async (manager) => {
      const group = await this.directoryGroupOf(manager, orgId, teamId);
      await this.findTeam(manager, orgId, teamId);
      // A provisioned team's group goes with it; so do the roles it mapped (taking them needs their permissions).
      const listed = group
        ? (
            await manager.query<Array<{ user_id: string }>>(
              `SELECT su.user_id FROM scim_group_members m JOIN scim_users su ON su.id = m.scim_user_id
                WHERE m.group_id = $1`,
              [group.id],
            )
          ).map((row) => row.user_id)
        : [];
      if (group?.roleId && listed.length > 0) {
        if (actor.kind !== 'user') throw permissionDenied([], 'Only a person may delete a team that maps a role.');
        await this.assertOrganizationRoleGrantable(manager, actor, orgId, group.roleId);
      }
      await this.record(manager, actor, orgId, 'team.delete', 'team', teamId, group ? { scimGroupId: group.id } : {});
      await manager.delete(Team, { id: teamId });
      if (group?.roleId) await syncGroupRoles(manager, orgId, listed);
    });
    await this.permissions.invalidate(orgId);
  }

  async addMember(
    actor: UserPrincipal,
    orgId: string,
    teamId: string,
    userId: string,
    roleIds?: string[],
  ): Promise<MemberDto> {
    const wanted = roleIds && roleIds.length > 0 ? roleIds : [SYSTEM_ROLES['team-member'].id];
    await this.transactions.run(orgId, async (manager) => {
      await this.findTeam(manager, orgId, teamId);
      if (!(await manager.existsBy(OrganizationMember, { organizationId: orgId, userId }))) {
        throw new NotFoundException('No such member of the organization: add them to the organization first.');
      }
      if (await manager.existsBy(TeamMember, { teamId, userId })) throw new ConflictException('Already in the team.');
      await manager.insert(TeamMember, { id: newId(), organizationId: orgId, teamId, userId });
      await this.assign(manager, actor, orgId, teamId, userId, wanted);
      await this.record(manager, actor, orgId, 'team.member.add', 'user', userId, { teamId, roleIds: wanted });
    });
    await this.permissions.invalidate(orgId, userId);
    return this.describeOne(orgId, teamId, userId);
  }

  listMembers(orgId: string, teamId: string): Promise<MemberDto[]> {
    return this.transactions.run(orgId, async (manager) => {
      await this.findTeam(manager, orgId, teamId);
      return (await this.teamMembers(manager, orgId, [teamId])).map(({ teamId: _team, ...member }) => member);
    });
  }

  async removeMember(actor: UserPrincipal, orgId: string, teamId: string, userId: string): Promise<void> {
    await this.transactions.run(orgId, async (manager) => {
      // A team the organization's IdP provisions: directory locks first, in the order SCIM takes them.
      const group = await this.directoryGroupOf(manager, orgId, teamId);
      await this.findTeam(manager, orgId, teamId);
      const member = await manager.findOneBy(TeamMember, { teamId, userId });
      if (!member) throw new NotFoundException('No such team member.');
      const held = await manager.find(RoleAssignment, { where: { organizationId: orgId, teamId, userId } });
      if (actor.userId !== userId)
        await this.assertGrantable(
          manager,
          actor,
          orgId,
          teamId,
          held.map((a) => a.roleId),
        );
      // Someone the IdP lists in this team's group, taken out by hand: the group says so too, and a
      // role the group maps to goes with it, which takes the authority to take that role away.
      const listed =
        group &&
        (
          await manager.query<unknown[]>(
            `SELECT 1 FROM scim_group_members m JOIN scim_users su ON su.id = m.scim_user_id
              WHERE m.group_id = $1 AND su.user_id = $2`,
            [group.id, userId],
          )
        ).length > 0;
      if (listed && group.roleId && actor.userId !== userId) {
        await this.assertOrganizationRoleGrantable(manager, actor, orgId, group.roleId);
      }
      await manager.delete(RoleAssignment, { organizationId: orgId, teamId, userId });
      await manager.delete(TeamMember, { id: member.id });
      if (listed) {
        await manager.query(
          `DELETE FROM scim_group_members m USING scim_users su
            WHERE m.group_id = $1 AND su.id = m.scim_user_id AND su.user_id = $2`,
          [group.id, userId],
        );
        await manager.query('UPDATE scim_groups SET version = version + 1, updated_at = now() WHERE id = $1', [
          group.id,
        ]);
        if (group.roleId) await syncGroupRoles(manager, orgId, [userId]);
      }
      await this.record(manager, actor, orgId, 'team.member.remove', 'user', userId, {
        teamId,
        ...(listed ? { scimGroupLeft: true } : {}),
      });
    });
    await this.permissions.invalidate(orgId, userId);
  }

  /**
   * The SCIM group a team is, if the organization's IdP provisions it, with the directory lock
   * and the group row taken (the order SCIM requests take them in, so they cannot deadlock).
   */
  private async directoryGroupOf(
    manager: EntityManager,
    orgId: string,
    teamId: string,
  ): Promise<{ id: string; roleId: string | null } | undefined> {
    const found = await manager.query<Array<{ id: string }>>(
      'SELECT id FROM scim_groups WHERE organization_id = $1 AND team_id = $2',
      [orgId, teamId],
    );
    if (!found[0]) return undefined;
    await lockDirectory(manager, orgId);
    const locked = await manager.query<Array<{ id: string; role_id: string | null }>>(
      'SELECT id, role_id FROM scim_groups WHERE id = $1 FOR UPDATE',
      [found[0].id],
    );
    return locked[0] ? { id: locked[0].id, roleId: locked[0].role_id } : undefined;
  }

  /** An organization role's permissions, all held by the actor in the organization (not just the team). */
  private async assertOrganizationRoleGrantable(
    manager: EntityManager,
    actor: UserPrincipal,
    orgId: string,
    roleId: string,
  ): Promise<void> {
    const carried = await manager.find(RolePermission, { where: { roleId } });
    const lacking = await this.permissions.lacking(
      actor.userId,
      orgId,
      carried.map((p) => p.permissionKey),
    );
    if (lacking.length > 0) {
      throw permissionDenied(
        lacking,
        'This person holds an organization role through the directory group this team is; taking them out takes ' +
          'that role away, which needs its permissions.',
      );
    }
  }

  async setMemberRoles(
    actor: UserPrincipal,
    orgId: string,
    teamId: string,
    userId: string,
    roleIds: string[],
  ): Promise<MemberDto> {
    if (roleIds.length === 0) {
      throw new ValidationProblemException([{ field: 'roleIds', message: 'roleIds must name at least one role' }]);
    }
    await this.transactions.run(orgId, async (manager) => {
      await this.findTeam(manager, orgId, teamId);
      if (!(await manager.existsBy(TeamMember, { teamId, userId })))
        throw new NotFoundException('No such team member.');
      const held = (await manager.find(RoleAssignment, { where: { organizationId: orgId, teamId, userId } })).map(
        (a) => a.roleId,
      );
      const added = roleIds.filter((id) => !held.includes(id));
      const removed = held.filter((id) => !roleIds.includes(id));
      await this.assertGrantable(manager, actor, orgId, teamId, [...added, ...removed]);
      if (removed.length > 0)
        await manager.delete(RoleAssignment, { organizationId: orgId, teamId, userId, roleId: In(removed) });
      await this.insertAssignments(manager, actor, orgId, teamId, userId, added);
      await this.record(manager, actor, orgId, 'team.member.roles.update', 'user', userId, { teamId, added, removed });
    });
    await this.permissions.invalidate(orgId, userId);
    return this.describeOne(orgId, teamId, userId);
  }

  /** The team's shown fields (one statement, TEAM_SQL); 404 when the organization has no such team. */
  private async findTeam(manager: EntityManager, orgId: string, teamId: string): Promise<TeamDto> {
    const [team] = await this.transactions.rows<TeamDto>(manager, TEAM_SQL, [teamId, orgId]);
    if (!team) throw new NotFoundException('No such team.');
    return TeamDto.from(team);
  }

  private async assign(
    manager: EntityManager,
    actor: UserPrincipal,
    orgId: string,
    teamId: string,
    userId: string,
    roleIds: string[],
  ): Promise<void> {
    await this.assertGrantable(manager, actor, orgId, teamId, roleIds);
    await this.insertAssignments(manager, actor, orgId, teamId, userId, roleIds);
  }

  private async insertAssignments(
    manager: EntityManager,
    actor: UserPrincipal,
    orgId: string,
    teamId: string,
    userId: string,
    roleIds: string[],
  ): Promise<void> {
    for (const roleId of roleIds) {
      await manager.insert(RoleAssignment, {
        id: newId(),
        organizationId: orgId,
        teamId,
        userId,
        roleId,
        grantedByUserId: actor.userId,
      });
    }
  }

  /** Team roles only, visible here, and carrying no permission the actor lacks in this team. */
  private async assertGrantable(
    manager: EntityManager,
    actor: UserPrincipal,
    orgId: string,
    teamId: string,
    roleIds: string[],
  ) {
    if (roleIds.length === 0) return;
    const roles = await manager.find(Role, { where: { id: In(roleIds) } });
    const unusable = roleIds.filter((id) => !roles.some((role) => role.id === id && role.scope === 'team'));
    if (unusable.length > 0) {
      throw new ValidationProblemException(
        unusable.map((id) => ({ field: 'roleIds', message: `${id} is not a team role` })),
      );
    }
    const carried = await manager.find(RolePermission, { where: { roleId: In(roleIds) } });
    const lacking = await this.permissions.lacking(
      actor.userId,
      orgId,
      carried.map((p) => p.permissionKey),
      teamId,
    );
    if (lacking.length > 0) {
      throw permissionDenied(lacking, 'You cannot grant or take away a role with permissions you do not hold.');
    }
  }

  private describeOne(orgId: string, teamId: string, userId: string): Promise<MemberDto> {
    return this.transactions.run(orgId, async (manager) => {
      const member = await manager.findOneByOrFail(TeamMember, { teamId, userId });
      const [described] = await describeMembers(manager, orgId, teamId, [member]);
      if (!described) throw new NotFoundException('No such team member.');
      return described;
    });
  }

  private record(
    manager: EntityManager,
    actor: Principal,
    orgId: string,
    action: string,
    targetType: string,
    targetId: string,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.record(
      { action, outcome: 'success', organizationId: orgId, ...auditActor(actor), targetType, targetId, metadata },
      manager,
    );
  }
}
