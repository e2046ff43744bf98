import { CurrentPrincipal, CurrentUser, NoImpersonation, type Principal, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { DuringOrganizationDeletion, RequirePermissions } from '@app/rbac';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post, Put, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageQueryDto } from '../common/page-query.dto';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import {
  CreateOrganizationDto,
  OrganizationDto,
  OrganizationPageDto,
  UpdateOrganizationDto,
} from './dto/organization.dto';
import { OrganizationsService } from './organizations.service';

@ApiTags('organizations')
@Controller('organizations')
export class OrganizationsController {
  constructor(private readonly organizations: OrganizationsService) {}

  @Post()
  @ApiOperation({ summary: 'Create an organization', description: 'Authenticated. The caller becomes its owner.' })
  @ApiCreatedResponse({ type: OrganizationDto })
  @ApiAuthenticated()
  @ApiProblems(400, 409)
  create(@CurrentUser() principal: UserPrincipal, @Body() dto: CreateOrganizationDto): Promise<OrganizationDto> {
    return this.organizations.create(principal, dto);
  }

  @Get()
  @ApiOperation({ summary: "The caller's organizations", description: 'Authenticated. Paginated.' })
  @ApiOkResponse({ type: OrganizationPageDto })
  @ApiAuthenticated()
  @ApiProblems(400)
  list(@CurrentUser() principal: UserPrincipal, @Query() query: PageQueryDto): Promise<OrganizationPageDto> {
    return this.organizations.listMine(principal.userId, query.page, query.pageSize);
  }

  @Get(':orgId')
  @RequirePermissions('organizations:read')
  @ApiOperation({ summary: 'An organization', description: 'Needs organizations:read in it.' })
  @ApiOkResponse({ type: OrganizationDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  get(@UuidParam('orgId') orgId: string): Promise<OrganizationDto> {
    return this.organizations.get(orgId);
  }

  @Put(':orgId')
  @RequirePermissions('organizations:update')
  @ApiOperation({ summary: 'Rename an organization or change its slug', description: 'Needs organizations:update.' })
  @ApiOkResponse({ type: OrganizationDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  update(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: UpdateOrganizationDto,
  ): Promise<OrganizationDto> {
    return this.organizations.update(principal, orgId, dto);
  }

  @Delete(':orgId')
  @HttpCode(HttpStatus.ACCEPTED)
  @RequirePermissions('organizations:delete')
  @NoImpersonation()
  @ApiOperation({
    summary: 'Delete an organization and everything in it, after a grace period',
    description:
      'Needs organizations:delete (owners). Closes the organization at once (410 `organization-deletion-scheduled` ' +
      'on its routes, API keys included) and purges it after ORGANIZATION_DELETION_GRACE; an owner may restore it until then.',
  })
  @ApiAcceptedResponse({ type: OrganizationDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 410)
  remove(@CurrentUser() principal: UserPrincipal, @UuidParam('orgId') orgId: string): Promise<OrganizationDto> {
    return this.organizations.remove(principal, orgId);
  }

  @Post(':orgId/restore')
  @HttpCode(HttpStatus.OK)
  @RequirePermissions('organizations:delete')
  @DuringOrganizationDeletion()
  @ApiOperation({
    summary: 'Call off a scheduled deletion',
    description: 'Needs organizations:delete (owners). 409 when no deletion is scheduled.',
  })
  @ApiOkResponse({ type: OrganizationDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  restore(@CurrentUser() principal: UserPrincipal, @UuidParam('orgId') orgId: string): Promise<OrganizationDto> {
    return this.organizations.restore(principal, orgId);
  }
}
