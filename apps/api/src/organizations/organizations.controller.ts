import { CurrentPrincipal, CurrentUser, type Principal, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePermissions } from '@app/rbac';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
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
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions('organizations:delete')
  @ApiOperation({
    summary: 'Delete an organization and everything in it',
    description: 'Needs organizations:delete (owners).',
  })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async remove(@CurrentUser() principal: UserPrincipal, @UuidParam('orgId') orgId: string): Promise<void> {
    await this.organizations.remove(principal, orgId);
  }
}
