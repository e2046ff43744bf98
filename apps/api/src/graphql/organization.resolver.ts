import { RequirePermissions } from '@app/rbac';
import { Args, ID, Int, Parent, Query, ResolveField } from '@nestjs/graphql';
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
