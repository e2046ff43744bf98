import { CurrentPrincipal, CurrentUser, type Principal, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { OrSelf, RequirePermissions } from '@app/rbac';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageQueryDto } from '../common/page-query.dto';
import { AddMemberDto, MemberDto, SetRolesDto } from '../members/dto/member.dto';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { CreateTeamDto, TeamDto, TeamPageDto, UpdateTeamDto } from './dto/team.dto';
import { TeamsService } from './teams.service';

/** Team routes: organization roles hold in every team; team roles only in their own team. */
@ApiTags('teams')
@Controller('organizations/:orgId/teams')
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Post()
  @RequirePermissions('teams:create')
  @ApiOperation({ summary: 'Create a team', description: 'Needs teams:create. The creator joins as team-admin.' })
  @ApiCreatedResponse({ type: TeamDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  create(
    @CurrentPrincipal() p: Principal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: CreateTeamDto,
  ): Promise<TeamDto> {
    return this.teams.create(p, orgId, dto);
  }

  @Get()
  @RequirePermissions('teams:read')
  @ApiOperation({ summary: 'Teams of the organization', description: 'Needs teams:read. Paginated.' })
  @ApiOkResponse({ type: TeamPageDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  list(@UuidParam('orgId') orgId: string, @Query() query: PageQueryDto): Promise<TeamPageDto> {
    return this.teams.list(orgId, query.page, query.pageSize);
  }

  @Get(':teamId')
  @RequirePermissions('teams:read')
  @ApiOperation({ summary: 'A team', description: 'Needs teams:read (organization-wide or in this team).' })
  @ApiOkResponse({ type: TeamDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  get(@UuidParam('orgId') orgId: string, @UuidParam('teamId') teamId: string): Promise<TeamDto> {
    return this.teams.get(orgId, teamId);
  }

  @Put(':teamId')
  @RequirePermissions('teams:update')
  @ApiOperation({
    summary: 'Rename or describe a team',
    description: 'Needs teams:update (organization-wide or in this team).',
  })
  @ApiOkResponse({ type: TeamDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  update(
    @CurrentPrincipal() p: Principal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('teamId') teamId: string,
    @Body() dto: UpdateTeamDto,
  ): Promise<TeamDto> {
    return this.teams.update(p, orgId, teamId, dto);
  }

  @Delete(':teamId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions('teams:delete')
  @ApiOperation({ summary: 'Delete a team', description: 'Needs teams:delete.' })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async remove(
    @CurrentPrincipal() p: Principal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('teamId') teamId: string,
  ) {
    await this.teams.remove(p, orgId, teamId);
  }

  @Post(':teamId/members')
  @RequirePermissions('team-members:manage')
  @ApiOperation({
    summary: 'Add an organization member to the team',
    description: 'Needs team-members:manage. Roles default to team-member; you cannot grant permissions you lack.',
  })
  @ApiCreatedResponse({ type: MemberDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  addMember(
    @CurrentUser() p: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('teamId') teamId: string,
    @Body() dto: AddMemberDto,
  ): Promise<MemberDto> {
    return this.teams.addMember(p, orgId, teamId, dto.userId, dto.roleIds);
  }

  @Get(':teamId/members')
  @RequirePermissions('teams:read')
  @ApiOperation({ summary: 'Team members and their team roles', description: 'Needs teams:read.' })
  @ApiOkResponse({ type: [MemberDto] })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  listMembers(@UuidParam('orgId') orgId: string, @UuidParam('teamId') teamId: string): Promise<MemberDto[]> {
    return this.teams.listMembers(orgId, teamId);
  }

  @Delete(':teamId/members/:userId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions('team-members:manage')
  @OrSelf('userId')
  @ApiOperation({
    summary: 'Remove a team member, or leave the team',
    description: 'Needs team-members:manage, except to leave.',
  })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async removeMember(
    @CurrentUser() p: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('teamId') teamId: string,
    @UuidParam('userId') userId: string,
  ): Promise<void> {
    await this.teams.removeMember(p, orgId, teamId, userId);
  }

  @Put(':teamId/members/:userId/roles')
  @RequirePermissions('team-members:manage')
  @ApiOperation({
    summary: "Replace a team member's team roles",
    description: 'Needs team-members:manage and every permission of each role changed.',
  })
  @ApiOkResponse({ type: MemberDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  setRoles(
    @CurrentUser() p: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('teamId') teamId: string,
    @UuidParam('userId') userId: string,
    @Body() dto: SetRolesDto,
  ): Promise<MemberDto> {
    return this.teams.setMemberRoles(p, orgId, teamId, userId, dto.roleIds);
  }
}
