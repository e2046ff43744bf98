import { CurrentUser, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePermissions } from '@app/rbac';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { CreateRoleDto, RoleDto, UpdateRoleDto } from './dto/role.dto';
import { RolesService } from './roles.service';

@ApiTags('roles')
@Controller('organizations/:orgId/roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Get()
  @RequirePermissions('roles:read')
  @ApiOperation({ summary: 'System roles and this organization’s custom roles', description: 'Needs roles:read.' })
  @ApiOkResponse({ type: [RoleDto] })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  list(@UuidParam('orgId') orgId: string): Promise<RoleDto[]> {
    return this.roles.list(orgId);
  }

  @Post()
  @RequirePermissions('roles:create')
  @ApiOperation({
    summary: 'Create a custom role',
    description: 'Needs roles:create and every permission put in the role. Permissions must fit the scope.',
  })
  @ApiCreatedResponse({ type: RoleDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  create(
    @CurrentUser() p: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: CreateRoleDto,
  ): Promise<RoleDto> {
    return this.roles.create(p, orgId, dto);
  }

  @Get(':roleId')
  @RequirePermissions('roles:read')
  @ApiOperation({ summary: 'A role and its permissions', description: 'Needs roles:read.' })
  @ApiOkResponse({ type: RoleDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  get(@UuidParam('orgId') orgId: string, @UuidParam('roleId') roleId: string): Promise<RoleDto> {
    return this.roles.get(orgId, roleId);
  }

  @Put(':roleId')
  @RequirePermissions('roles:update')
  @ApiOperation({
    summary: 'Change a custom role',
    description: 'Needs roles:update and every permission added or removed. System roles: 409.',
  })
  @ApiOkResponse({ type: RoleDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  update(
    @CurrentUser() p: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('roleId') roleId: string,
    @Body() dto: UpdateRoleDto,
  ): Promise<RoleDto> {
    return this.roles.update(p, orgId, roleId, dto);
  }

  @Delete(':roleId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions('roles:delete')
  @ApiOperation({
    summary: 'Delete a custom role',
    description: 'Needs roles:delete. System roles, and roles still assigned to someone: 409 (reassign first).',
  })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  async remove(
    @CurrentUser() p: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('roleId') roleId: string,
  ) {
    await this.roles.remove(p, orgId, roleId);
  }
}
