import { CurrentPrincipal, CurrentUser, NoImpersonation, type Principal, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePermissions } from '@app/rbac';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageQueryDto } from '../common/page-query.dto';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyDto, ApiKeyPageDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto';

@ApiTags('api-keys')
@Controller('organizations/:orgId/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  // A key outlives the session that made it: an impersonator never mints one in the person's name.
  @NoImpersonation()
  @Post()
  @RequirePermissions('api-keys:create')
  @ApiOperation({
    summary: 'Create an API key',
    description:
      'Needs api-keys:create (people only: a key cannot mint keys) and every permission given to the key. The key is in this response only.',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  create(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: CreateApiKeyDto,
  ): Promise<CreatedApiKeyDto> {
    return this.apiKeys.create(principal, orgId, dto);
  }

  @Get()
  @RequirePermissions('api-keys:read')
  @ApiOperation({ summary: "The organization's API keys", description: 'Needs api-keys:read. Never the secrets.' })
  @ApiOkResponse({ type: ApiKeyPageDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  list(@UuidParam('orgId') orgId: string, @Query() query: PageQueryDto): Promise<ApiKeyPageDto> {
    return this.apiKeys.list(orgId, query.page, query.pageSize);
  }

  @Get(':apiKeyId')
  @RequirePermissions('api-keys:read')
  @ApiOperation({ summary: 'One API key', description: 'Needs api-keys:read. Never the secret.' })
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  get(@UuidParam('orgId') orgId: string, @UuidParam('apiKeyId') id: string): Promise<ApiKeyDto> {
    return this.apiKeys.get(orgId, id);
  }

  @Delete(':apiKeyId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions('api-keys:revoke')
  @ApiOperation({
    summary: 'Revoke an API key',
    description: 'Needs api-keys:revoke. Refused (401) from the next request on, on every replica. Idempotent.',
  })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('apiKeyId') id: string,
  ): Promise<void> {
    await this.apiKeys.revoke(principal, orgId, id);
  }
}
