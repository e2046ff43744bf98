import { CurrentUser, NoImpersonation, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePermissions } from '@app/rbac';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import {
  CreateDomainDto,
  CreateSsoConnectionDto,
  DomainDto,
  SsoConnectionDto,
  SsoEnforcementDto,
  UpdateSsoConnectionDto,
} from './dto/sso.dto';
import { SsoAdminService } from './sso-admin.service';

@ApiTags('single sign-on')
@Controller('organizations/:orgId')
export class SsoAdminController {
  constructor(private readonly sso: SsoAdminService) {}

  @NoImpersonation()
  @Post('sso/connections')
  @RequirePermissions('sso:manage')
  @ApiOperation({
    summary: 'Add a SAML connection',
    description:
      'Needs sso:manage. From the IdP metadata XML, or entity id + SSO URL + certificates. Roles it provisions ' +
      '(default and mapped) must be ones you can grant. Audited.',
  })
  @ApiCreatedResponse({ type: SsoConnectionDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  create(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: CreateSsoConnectionDto,
  ): Promise<SsoConnectionDto> {
    return this.sso.createConnection(actor, orgId, dto);
  }

  @Get('sso/connections')
  @RequirePermissions('sso:manage')
  @ApiOperation({ summary: "The organization's connections", description: 'Needs sso:manage.' })
  @ApiOkResponse({ type: [SsoConnectionDto] })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  list(@UuidParam('orgId') orgId: string): Promise<SsoConnectionDto[]> {
    return this.sso.listConnections(orgId);
  }

  @Get('sso/connections/:connectionId')
  @RequirePermissions('sso:manage')
  @ApiOperation({ summary: 'A connection', description: 'Needs sso:manage.' })
  @ApiOkResponse({ type: SsoConnectionDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  get(@UuidParam('orgId') orgId: string, @UuidParam('connectionId') connectionId: string): Promise<SsoConnectionDto> {
    return this.sso.getConnection(orgId, connectionId);
  }

  @NoImpersonation()
  @Patch('sso/connections/:connectionId')
  @RequirePermissions('sso:manage')
  @ApiOperation({
    summary: 'Change a connection',
    description:
      'Needs sso:manage. New metadata or certificates (a rotation: list both until the IdP switches). Audited.',
  })
  @ApiOkResponse({ type: SsoConnectionDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  update(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('connectionId') connectionId: string,
    @Body() dto: UpdateSsoConnectionDto,
  ): Promise<SsoConnectionDto> {
    return this.sso.updateConnection(actor, orgId, connectionId, dto);
  }

  @NoImpersonation()
  @Delete('sso/connections/:connectionId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions('sso:manage')
  @ApiOperation({ summary: 'Delete a connection', description: 'Needs sso:manage. Audited.' })
  @ApiNoContentResponse()
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async remove(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('connectionId') connectionId: string,
  ): Promise<void> {
    await this.sso.deleteConnection(actor, orgId, connectionId);
  }

  @Get('sso/enforcement')
  @RequirePermissions('sso:manage')
  @ApiOperation({ summary: 'Whether single sign-on is enforced', description: 'Needs sso:manage.' })
  @ApiOkResponse({ type: SsoEnforcementDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  enforcement(@UuidParam('orgId') orgId: string): Promise<SsoEnforcementDto> {
    return this.sso.enforcement(orgId);
  }

  @NoImpersonation()
  @Put('sso/enforcement')
  @RequirePermissions('sso:manage')
  @ApiOperation({
    summary: 'Enforce single sign-on (or stop)',
    description:
      'Needs sso:manage. While enforced, members whose email is in a verified domain reach this organization ' +
      'only from a session signed in through one of its connections (403 `/problems/sso-required` otherwise); ' +
      'the break-glass owner and platform admins are let through and audited (`sso.enforcement.bypass`). ' +
      '409 sso-not-ready without an enabled connection and a verified domain; 409 would-lock-you-out when you ' +
      'would lose access yourself. Audited.',
  })
  @ApiOkResponse({ type: SsoEnforcementDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  setEnforcement(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: SsoEnforcementDto,
  ): Promise<SsoEnforcementDto> {
    return this.sso.setEnforcement(actor, orgId, dto);
  }

  @NoImpersonation()
  @Post('domains')
  @RequirePermissions('sso:manage')
  @ApiOperation({
    summary: 'Claim a domain',
    description: 'Needs sso:manage. Returns the TXT record to publish; POST …/verify once it is there. Audited.',
  })
  @ApiCreatedResponse({ type: DomainDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  addDomain(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: CreateDomainDto,
  ): Promise<DomainDto> {
    return this.sso.addDomain(actor, orgId, dto);
  }

  @Get('domains')
  @RequirePermissions('sso:manage')
  @ApiOperation({ summary: "The organization's domains", description: 'Needs sso:manage.' })
  @ApiOkResponse({ type: [DomainDto] })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  listDomains(@UuidParam('orgId') orgId: string): Promise<DomainDto[]> {
    return this.sso.listDomains(orgId);
  }

  @NoImpersonation()
  @Post('domains/:domainId/verify')
  @HttpCode(HttpStatus.OK)
  @RequirePermissions('sso:manage')
  @ApiOperation({
    summary: 'Check the TXT record now',
    description:
      'Needs sso:manage. 200 verified; 409 domain-not-verified (no matching record yet) or when another ' +
      'organization verified the domain first; 503 dns-unavailable. Audited when verified.',
  })
  @ApiOkResponse({ type: DomainDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409, 503)
  verifyDomain(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('domainId') domainId: string,
  ): Promise<DomainDto> {
    return this.sso.verifyDomain(actor, orgId, domainId);
  }

  @NoImpersonation()
  @Delete('domains/:domainId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions('sso:manage')
  @ApiOperation({ summary: 'Give a domain up', description: 'Needs sso:manage. Audited.' })
  @ApiNoContentResponse()
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async removeDomain(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('domainId') domainId: string,
  ): Promise<void> {
    await this.sso.deleteDomain(actor, orgId, domainId);
  }
}
