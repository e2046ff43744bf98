import { CurrentPrincipal, type Principal } from '@app/auth';
import { RequirePermissions } from '@app/rbac';
import { Args, Context, ID, Mutation, Parent, ResolveField } from '@nestjs/graphql';
import type { FastifyRequest } from 'fastify';
import type { TeamDto } from '../teams/dto/team.dto';
import { TeamsService } from '../teams/teams.service';
import { teamMembersLoader } from './loaders';
import { CreateTeamInput, MemberNode, TeamNode, UpdateTeamInput } from './models';
import { ApiResolver } from './tenant-scope';

export function toTeamNode(team: TeamDto): TeamNode {
  return { ...team, teamId: team.id };
}

/** Teams: their members, and the changes REST can make (same service, so the same audit rows and events). */
@ApiResolver(() => TeamNode)
export class TeamResolver {
  constructor(private readonly teams: TeamsService) {}

  @ResolveField(() => [MemberNode], {
    description: 'Needs teams:read, organization-wide or in this team. Batched across the teams of one operation.',
  })
  @RequirePermissions('teams:read')
  members(@Parent() team: TeamNode, @Context('req') request: FastifyRequest): Promise<MemberNode[]> {
    return teamMembersLoader(request, team.organizationId, this.teams).load(team.id);
  }

  @Mutation(() => TeamNode, { description: 'Needs teams:create. The creator joins as team-admin.' })
  @RequirePermissions('teams:create')
  async createTeam(
    @CurrentPrincipal() principal: Principal,
    @Args('orgId', { type: () => ID }) orgId: string,
    @Args('input') input: CreateTeamInput,
  ): Promise<TeamNode> {
    return toTeamNode(await this.teams.create(principal, orgId, input));
  }

  @Mutation(() => TeamNode, { description: 'Needs teams:update, organization-wide or in this team.' })
  @RequirePermissions('teams:update')
  async updateTeam(
    @CurrentPrincipal() principal: Principal,
    @Args('orgId', { type: () => ID }) orgId: string,
    @Args('teamId', { type: () => ID }) teamId: string,
    @Args('input') input: UpdateTeamInput,
  ): Promise<TeamNode> {
    return toTeamNode(await this.teams.update(principal, orgId, teamId, input));
  }

  @Mutation(() => ID, { description: 'Needs teams:delete. Returns the deleted team id.' })
  @RequirePermissions('teams:delete')
  async deleteTeam(
    @CurrentPrincipal() principal: Principal,
    @Args('orgId', { type: () => ID }) orgId: string,
    @Args('teamId', { type: () => ID }) teamId: string,
  ): Promise<string> {
    await this.teams.remove(principal, orgId, teamId);
    return teamId;
  }
}
