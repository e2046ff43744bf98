import { CurrentUser, NoImpersonation, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePermissions } from '@app/rbac';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { CreatedScimTokenDto, CreateScimTokenDto, ScimTokenDto } from './dto/scim-token.dto';
import { ScimTokensService } from './scim-tokens.service';

@ApiTags('directory sync (SCIM)')
@Controller('organizations/:orgId/scim/tokens')
export class ScimTokensController {
  constructor(private readonly tokens: ScimTokensService) {}

  @NoImpersonation()
  @Post()
  @RequirePermissions('scim:manage')
  @ApiOperation({
    summary: 'Create a SCIM token',
    description:
      'Needs scim:manage (owners and admins; never an API key). Returns the bearer token for the IdP once, with ' +
      'the SCIM base URL. It reaches only this organization’s SCIM endpoint, and only while you still hold ' +
      'scim:manage here. At most 5 live tokens (rotate: create the new one, switch the IdP, revoke the old). Audited.',
  })
  @ApiCreatedResponse({ type: CreatedScimTokenDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  create(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: CreateScimTokenDto,
  ): Promise<CreatedScimTokenDto> {
    return this.tokens.create(actor, orgId, dto);
  }

  @Get()
  @RequirePermissions('scim:manage')
  @ApiOperation({ summary: 'The organization’s SCIM tokens', description: 'Needs scim:manage. Never the secrets.' })
  @ApiOkResponse({ type: [ScimTokenDto] })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  list(@UuidParam('orgId') orgId: string): Promise<ScimTokenDto[]> {
    return this.tokens.list(orgId);
  }

  @NoImpersonation()
  @Delete(':tokenId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions('scim:manage')
  @ApiOperation({
    summary: 'Revoke a SCIM token',
    description: 'Needs scim:manage. At once, on every replica. Audited.',
  })
  @ApiNoContentResponse()
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async revoke(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('tokenId') tokenId: string,
  ): Promise<void> {
    await this.tokens.revoke(actor, orgId, tokenId);
  }
}
