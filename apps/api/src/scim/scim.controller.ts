import { CurrentPrincipal, type Principal } from '@app/auth';
import { UuidParam } from '@app/common';
import { AppConfig } from '@app/config';
import { RequirePermissions } from '@app/rbac';
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import { ApiBody, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SCIM_PROVISION, type ScimPrincipal } from './scim-access';
import { resourceTypes, schemas, serviceProviderConfig } from './scim-discovery';
import { ApiScimErrors, SCIM_CONTENT_TYPE, scimError } from './scim-errors';
import { scimBaseUrl } from './scim-tokens.service';
import { ScimGroupsService } from './scim-groups.service';
import { ScimUsersService, type ScimListQuery } from './scim-users.service';

const ERRORS =
  'Errors in SCIM’s error schema (schemas, status, scimType, detail), never problem+json: 400 invalidFilter, ' +
  'invalidValue, invalidSyntax, invalidPath, noTarget; 401 without a live token; 404 for another organization ' +
  'or an unknown id; 409 uniqueness; 412 when If-Match names an older version.';

function scimCaller(principal: Principal): ScimPrincipal {
  if (principal.kind !== 'scim') throw scimError(403, undefined, 'Only a SCIM token provisions here.');
  return principal;
}

/**
 * The SCIM 2.0 service provider of one organization, at `/api/v1/organizations/{orgId}/scim/v2`
 * (RFC 7644), for the organization's SCIM tokens only.
 */
@ApiTags('directory sync (SCIM)')
@ApiProduces('application/scim+json')
@Controller('organizations/:orgId/scim/v2')
export class ScimController {
  constructor(
    private readonly config: AppConfig,
    private readonly users: ScimUsersService,
    private readonly groups: ScimGroupsService,
  ) {}

  @Get('ServiceProviderConfig')
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({ summary: 'SCIM: what this service provider supports', description: `A SCIM token. ${ERRORS}` })
  @ApiResponse({ status: 200, description: 'ServiceProviderConfig.' })
  config_(@UuidParam('orgId') orgId: string, @Res({ passthrough: true }) reply: FastifyReply): Record<string, unknown> {
    void reply.type(SCIM_CONTENT_TYPE);
    return serviceProviderConfig(scimBaseUrl(this.config, orgId));
  }

  @Get('ResourceTypes')
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({ summary: 'SCIM: resource types', description: `A SCIM token. ${ERRORS}` })
  @ApiResponse({ status: 200, description: 'ListResponse of ResourceType.' })
  resourceTypes(
    @UuidParam('orgId') orgId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Record<string, unknown> {
    void reply.type(SCIM_CONTENT_TYPE);
    return resourceTypes(scimBaseUrl(this.config, orgId));
  }

  @Get('Schemas')
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({ summary: 'SCIM: schemas', description: `A SCIM token. ${ERRORS}` })
  @ApiResponse({ status: 200, description: 'ListResponse of Schema.' })
  schemas(@UuidParam('orgId') orgId: string, @Res({ passthrough: true }) reply: FastifyReply): Record<string, unknown> {
    void reply.type(SCIM_CONTENT_TYPE);
    return schemas(scimBaseUrl(this.config, orgId));
  }

  @Get('Users')
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({
    summary: 'SCIM: list or find Users',
    description:
      'A SCIM token. `filter` on userName, externalId, emails(.value), displayName, name.givenName, ' +
      'name.familyName, active, id, meta.created, meta.lastModified (eq ne co sw ew gt ge lt le pr, and or not, ' +
      'emails[...] value filters); `startIndex` (1-based), `count` (≤ 200), `attributes` / `excludedAttributes`. ' +
      ERRORS,
  })
  @ApiResponse({ status: 200, description: 'ListResponse of User.' })
  async list(
    @UuidParam('orgId') orgId: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    void reply.type(SCIM_CONTENT_TYPE);
    return this.users.list(orgId, pick(query));
  }

  @Post('Users')
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({
    summary: 'SCIM: provision a User',
    description:
      'A SCIM token. Finds or creates the account (an existing one only when its address is in a verified domain ' +
      'and verified by its owner) and makes it a member (role member) while active. ' +
      ERRORS,
  })
  @ApiBody({ schema: { type: 'object' } })
  @ApiResponse({ status: 201, description: 'The User, with ETag and Location.' })
  async create(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('orgId') orgId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    const resource = await this.users.create(scimCaller(principal), orgId, body);
    return send(reply, resource, HttpStatus.CREATED);
  }

  @Get('Users/:scimUserId')
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({ summary: 'SCIM: a User', description: `A SCIM token. ${ERRORS}` })
  @ApiResponse({ status: 200, description: 'The User, with ETag.' })
  async get(
    @UuidParam('orgId') orgId: string,
    @Param('scimUserId') id: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return send(reply, await this.users.get(orgId, id, pick(query)));
  }

  @Put('Users/:scimUserId')
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({
    summary: 'SCIM: replace a User',
    description: `A SCIM token. \`active: false\` ends the membership at once; true brings it back. ${ERRORS}`,
  })
  @ApiBody({ schema: { type: 'object' } })
  @ApiResponse({ status: 200, description: 'The User, with ETag.' })
  async replace(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('orgId') orgId: string,
    @Param('scimUserId') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return send(reply, await this.users.replace(scimCaller(principal), orgId, id, body, ifMatch));
  }

  @Patch('Users/:scimUserId')
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({
    summary: 'SCIM: change a User (PatchOp)',
    description:
      'A SCIM token. add / replace / remove with or without a path (Okta’s and Entra ID’s forms, "Replace" and ' +
      `"False" included). ${ERRORS}`,
  })
  @ApiBody({ schema: { type: 'object' } })
  @ApiResponse({ status: 200, description: 'The User, with ETag.' })
  async patch(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('orgId') orgId: string,
    @Param('scimUserId') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return send(reply, await this.users.patch(scimCaller(principal), orgId, id, body, ifMatch));
  }

  @Delete('Users/:scimUserId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({
    summary: 'SCIM: deprovision a User',
    description: `A SCIM token. Ends the membership at once; the account stays for its other organizations. ${ERRORS}`,
  })
  @ApiResponse({ status: 204, description: 'Gone.' })
  async remove(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('orgId') orgId: string,
    @Param('scimUserId') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.users.remove(scimCaller(principal), orgId, id, ifMatch);
  }

  @Get('Groups')
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({
    summary: 'SCIM: list or find Groups',
    description:
      'A SCIM token. Each Group is a team of the organization. `filter` on displayName, externalId, id, ' +
      'meta.created, meta.lastModified and membership (`members[value eq "…"]`, `members.value eq "…"`); ' +
      '`startIndex`, `count` (≤ 200), `attributes` / `excludedAttributes` (`excludedAttributes=members` skips ' +
      'the member lists). ' +
      ERRORS,
  })
  @ApiResponse({ status: 200, description: 'ListResponse of Group.' })
  async listGroups(
    @UuidParam('orgId') orgId: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    void reply.type(SCIM_CONTENT_TYPE);
    return this.groups.list(orgId, pick(query));
  }

  @Post('Groups')
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({
    summary: 'SCIM: provision a Group',
    description:
      'A SCIM token. Creates a team named displayName (unique here, without regard to case) and puts the ' +
      'listed Users in it (at most 10,000 member values per request; the active ones join the team). ' +
      ERRORS,
  })
  @ApiBody({ schema: { type: 'object' } })
  @ApiResponse({ status: 201, description: 'The Group, with ETag and Location.' })
  async createGroup(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('orgId') orgId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return send(reply, await this.groups.create(scimCaller(principal), orgId, body), HttpStatus.CREATED);
  }

  @Get('Groups/:scimGroupId')
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({ summary: 'SCIM: a Group', description: `A SCIM token. ${ERRORS}` })
  @ApiResponse({ status: 200, description: 'The Group, with ETag.' })
  async getGroup(
    @UuidParam('orgId') orgId: string,
    @Param('scimGroupId') id: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return send(reply, await this.groups.get(orgId, id, pick(query)));
  }

  @Put('Groups/:scimGroupId')
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({
    summary: 'SCIM: replace a Group',
    description: `A SCIM token. displayName, externalId and, when given, the whole member list. ${ERRORS}`,
  })
  @ApiBody({ schema: { type: 'object' } })
  @ApiResponse({ status: 200, description: 'The Group, with ETag.' })
  async replaceGroup(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('orgId') orgId: string,
    @Param('scimGroupId') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return send(reply, await this.groups.replace(scimCaller(principal), orgId, id, body, ifMatch));
  }

  @Patch('Groups/:scimGroupId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({
    summary: 'SCIM: change a Group (PatchOp)',
    description:
      'A SCIM token. Rename (path-less replace with displayName, or path displayName), externalId, and members: ' +
      'add / remove by list, remove by `members[value eq "…"]`, replace the whole list, remove all. At most ' +
      '10,000 member values and 1,000 operations per request, applied in one transaction or not at all. ' +
      `Answered 204 with the new ETag. ${ERRORS}`,
  })
  @ApiBody({ schema: { type: 'object' } })
  @ApiResponse({ status: 204, description: 'Changed; the ETag header is the new version.' })
  async patchGroup(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('orgId') orgId: string,
    @Param('scimGroupId') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const etag = await this.groups.patch(scimCaller(principal), orgId, id, body, ifMatch);
    void reply.header('etag', etag);
  }

  @Delete('Groups/:scimGroupId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions(SCIM_PROVISION)
  @ApiScimErrors(400, 409, 412)
  @ApiOperation({
    summary: 'SCIM: deprovision a Group',
    description:
      'A SCIM token. Its members leave the team (and any role the group mapped to); the team is deleted too ' +
      `unless projects belong to it (an IdP never deletes work). ${ERRORS}`,
  })
  @ApiResponse({ status: 204, description: 'Gone.' })
  async removeGroup(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('orgId') orgId: string,
    @Param('scimGroupId') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.groups.remove(scimCaller(principal), orgId, id, ifMatch);
  }
}

function send(reply: FastifyReply, resource: Record<string, unknown>, status = HttpStatus.OK): Record<string, unknown> {
  const meta = resource.meta as { version?: string; location?: string } | undefined;
  void reply.status(status).type(SCIM_CONTENT_TYPE);
  if (meta?.version) void reply.header('etag', meta.version);
  if (status === HttpStatus.CREATED && meta?.location) void reply.header('location', meta.location);
  return resource;
}

function pick(query: Record<string, unknown>): ScimListQuery {
  const value = (name: string) => {
    const raw = query[name];
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string') throw scimError(400, 'invalidValue', `${name} must be given once`);
    return raw;
  };
  const picked: ScimListQuery = {};
  for (const name of ['filter', 'startIndex', 'count', 'attributes', 'excludedAttributes'] as const) {
    const raw = value(name);
    if (raw !== undefined) picked[name] = raw;
  }
  return picked;
}
