import { CurrentUser, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePermissions } from '@app/rbac';
import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { ScimGroupDto, SetScimGroupRoleDto } from './dto/scim-group.dto';
import { ScimGroupsService } from './scim-groups.service';

/** What administrators do with the groups an IdP provisions: see them, and map one to a role. */
@ApiTags('directory sync (SCIM)')
@Controller('organizations/:orgId/scim/groups')
export class ScimGroupsController {
  constructor(private readonly groups: ScimGroupsService) {}

  @Get()
  @RequirePermissions('scim:manage')
  @ApiOperation({
    summary: 'The groups the organization’s IdP provisions',
    description: 'Needs scim:manage. Each is a team; roleId is the organization role it maps to, if any.',
  })
  @ApiOkResponse({ type: [ScimGroupDto] })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  list(@UuidParam('orgId') orgId: string): Promise<ScimGroupDto[]> {
    return this.groups.listForAdmin(orgId);
  }

  @Patch(':scimGroupId')
  @RequirePermissions('scim:manage', 'members:update-roles')
  @ApiOperation({
    summary: 'Map a provisioned group to an organization role',
    description:
      'Needs scim:manage, members:update-roles and the ability to grant the role (and the one it replaces). The ' +
      'group’s active members ' +
      'hold the role while the IdP lists them in it: the directory grants it and takes back what it granted (a ' +
      'role given by hand stays). A SCIM token moves people in and out only within its creator’s authority. ' +
      'Owner and member cannot be mapped. Audited.',
  })
  @ApiOkResponse({ type: ScimGroupDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  setRole(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('scimGroupId') id: string,
    @Body() dto: SetScimGroupRoleDto,
  ): Promise<ScimGroupDto> {
    return this.groups.setRole(actor, orgId, id, dto.roleId);
  }
}
