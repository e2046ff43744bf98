import { CurrentUser, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { OrSelf, RequirePermissions } from '@app/rbac';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageQueryDto } from '../common/page-query.dto';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { AddMemberDto, MemberDto, MemberPageDto, RemoveMemberDto, SetRolesDto } from './dto/member.dto';
import { MembersService } from './members.service';

@ApiTags('members')
@Controller('organizations/:orgId/members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Post()
  @RequirePermissions('members:invite')
  @ApiOperation({
    summary: 'Add an existing user as a member',
    description:
      'Needs members:invite. Only for a person who already shares an organization with you, or when a platform ' +
      'admin adds them; anyone else (and every platform admin) joins by an invitation they accept, and gets the ' +
      'same 404 `/problems/invitation-required` as an unknown id. The person is told by mail. Roles default to ' +
      'member; you cannot grant permissions you lack.',
  })
  @ApiCreatedResponse({ type: MemberDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  add(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: AddMemberDto,
  ): Promise<MemberDto> {
    return this.members.add(principal, orgId, dto.userId, dto.roleIds);
  }

  @Get()
  @RequirePermissions('members:read')
  @ApiOperation({ summary: 'Members and their organization roles', description: 'Needs members:read. Paginated.' })
  @ApiOkResponse({ type: MemberPageDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  list(@UuidParam('orgId') orgId: string, @Query() query: PageQueryDto): Promise<MemberPageDto> {
    return this.members.list(orgId, query.page, query.pageSize);
  }

  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions('members:remove')
  @ApiOperation({
    summary: 'Remove a member (body form)',
    description: 'Needs members:remove. The last owner stays (409).',
  })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  async removeByBody(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: RemoveMemberDto,
  ): Promise<void> {
    await this.members.remove(principal, orgId, dto.userId);
  }

  @Delete(':userId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions('members:remove')
  @OrSelf('userId')
  @ApiOperation({
    summary: 'Remove a member, or leave',
    description: 'Needs members:remove, except to remove yourself (leave). The last owner stays (409).',
  })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  async remove(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('userId') userId: string,
  ): Promise<void> {
    await this.members.remove(principal, orgId, userId);
  }

  @Put(':userId/roles')
  @RequirePermissions('members:update-roles')
  @ApiOperation({
    summary: "Replace a member's organization roles",
    description:
      'Needs members:update-roles and every permission of each role added or removed. The last owner stays (409).',
  })
  @ApiOkResponse({ type: MemberDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  setRoles(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('userId') userId: string,
    @Body() dto: SetRolesDto,
  ): Promise<MemberDto> {
    return this.members.setRoles(principal, orgId, userId, dto.roleIds);
  }
}
