import { ValidationProblemException } from '@app/common';
import { RequirePermissions, TeamScoped } from '@app/rbac';
import { Args, Extensions, ID, Int, Parent, Query, ResolveField } from '@nestjs/graphql';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AuditLogQueryDto } from '../audit-logs/dto/audit-log.dto';
import { AuditLogsService } from '../audit-logs/audit-logs.service';
import { InvitationsService } from '../invitations/invitations.service';
import type { ProjectListQueryDto } from '../projects/dto/project.dto';
import { ProjectsService } from '../projects/projects.service';
import { RolesService } from '../roles/roles.service';
import {
  ApiKeyConnection,
  AuditLogConnection,
  AuditLogFilterInput,
  InvitationConnection,
  ProjectConnection,
  RoleNode,
  type ApiKeyNode,
  type InvitationNode,
  type ProjectNode,
} from './models-more';
import { MembersService } from '../members/members.service';
import type { OrganizationDto } from '../organizations/dto/organization.dto';
import { OrganizationsService } from '../organizations/organizations.service';
import { TeamsService } from '../teams/teams.service';
import { toConnection, window, type Connection } from './connection';
import { MemberConnection, OrganizationNode, TeamConnection, TeamNode, type MemberNode } from './models';
import { toTeamNode } from './team.resolver';
import { ApiResolver } from './tenant-scope';

export function toOrganizationNode(organization: OrganizationDto): OrganizationNode {
  return { ...organization, organizationId: organization.id };
}

/** An organization and its lists; each field needs the permission its REST route needs. */
@ApiResolver(() => OrganizationNode)
export class OrganizationResolver {
  constructor(
    private readonly organizations: OrganizationsService,
    private readonly teamsService: TeamsService,
    private readonly membersService: MembersService,
    private readonly rolesService: RolesService,
    private readonly projectsService: ProjectsService,
    private readonly invitationsService: InvitationsService,
    private readonly apiKeysService: ApiKeysService,
    private readonly auditLogsService: AuditLogsService,
  ) {}

  @Query(() => OrganizationNode, {
    nullable: true,
    description: 'Needs organizations:read. Null, with a NOT_FOUND error, for one the caller is not a member of.',
  })
  @RequirePermissions('organizations:read')
  async organization(@Args('orgId', { type: () => ID }) orgId: string): Promise<OrganizationNode> {
    return toOrganizationNode(await this.organizations.get(orgId));
  }

  @ResolveField(() => TeamConnection, { description: 'Needs teams:read.' })
  @RequirePermissions('teams:read')
  async teams(
    @Parent() organization: OrganizationNode,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<Connection<TeamNode>> {
    const { offset, limit } = window(first, after);
    return toConnection(await this.teamsService.slice(organization.id, offset, limit), offset, toTeamNode);
  }

  @ResolveField(() => TeamNode, { nullable: true, description: 'Needs teams:read, organization-wide or in this team.' })
  @RequirePermissions('teams:read')
  async team(
    @Parent() organization: OrganizationNode,
    @Args('teamId', { type: () => ID }) teamId: string,
  ): Promise<TeamNode> {
    return toTeamNode(await this.teamsService.get(organization.id, teamId));
  }

  @ResolveField(() => [RoleNode], { description: "Needs roles:read. System roles and the organization's own." })
  @Extensions({ listSize: 30 })
  @RequirePermissions('roles:read')
  roles(@Parent() organization: OrganizationNode): Promise<RoleNode[]> {
    return this.rolesService.list(organization.id);
  }

  @ResolveField(() => ProjectConnection, {
    description: 'Needs projects:read, organization-wide (every project) or in teams (their projects). Newest first.',
  })
  @RequirePermissions('projects:read')
  @TeamScoped()
  async projects(
    @Parent() organization: OrganizationNode,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<Connection<ProjectNode>> {
    const { offset, limit } = window(first, after);
    const page = await this.projectsService.list(organization.id, {
      page: 1,
      pageSize: limit,
      offset,
      sort: '-createdAt',
    } as ProjectListQueryDto);
    return toConnection(page, offset, (project) => project);
  }

  @ResolveField(() => InvitationConnection, { description: 'Needs members:read. Newest first.' })
  @RequirePermissions('members:read')
  async invitations(
    @Parent() organization: OrganizationNode,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<Connection<InvitationNode>> {
    const { offset, limit } = window(first, after);
    const page = await this.invitationsService.list(organization.id, { page: 1, pageSize: limit, offset });
    return toConnection(page, offset, (invitation) => invitation);
  }

  @ResolveField(() => ApiKeyConnection, { description: 'Needs api-keys:read. Metadata only. Newest first.' })
  @RequirePermissions('api-keys:read')
  async apiKeys(
    @Parent() organization: OrganizationNode,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<Connection<ApiKeyNode>> {
    const { offset, limit } = window(first, after);
    return toConnection(await this.apiKeysService.slice(organization.id, offset, limit), offset, (key) => key);
  }

  @ResolveField(() => AuditLogConnection, { description: 'Needs audit-logs:read. Newest first.' })
  @RequirePermissions('audit-logs:read')
  async auditLog(
    @Parent() organization: OrganizationNode,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
    @Args('filter', { nullable: true }) filter?: AuditLogFilterInput,
  ): Promise<AuditLogConnection> {
    const { limit } = window(first, undefined);
    if (after !== undefined && after !== null && (typeof after !== 'string' || after.length > 200)) {
      throw new ValidationProblemException([{ field: 'after', message: 'after is not a cursor of this list' }]);
    }
    const query = Object.assign(new AuditLogQueryDto(), filter ?? {}, { cursor: after ?? undefined, limit });
    const { rows, hasNextPage } = await this.auditLogsService.listWithCursors(organization.id, query);
    return {
      edges: rows.map(({ cursor, entry }) => ({ cursor, node: entry })),
      pageInfo: {
        hasNextPage,
        hasPreviousPage: Boolean(after),
        startCursor: rows[0]?.cursor ?? null,
        endCursor: rows.at(-1)?.cursor ?? null,
      },
    };
  }

  @ResolveField(() => MemberConnection, { description: 'Needs members:read.' })
  @RequirePermissions('members:read')
  async members(
    @Parent() organization: OrganizationNode,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<Connection<MemberNode>> {
    const { offset, limit } = window(first, after);
    return toConnection(await this.membersService.slice(organization.id, offset, limit), offset, (member) => member);
  }
}
