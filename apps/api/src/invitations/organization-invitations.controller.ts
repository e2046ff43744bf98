import { CurrentUser, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePermissions } from '@app/rbac';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { CreateInvitationDto, InvitationDto, InvitationPageDto, InvitationQueryDto } from './dto/invitation.dto';
import { InvitationsService } from './invitations.service';

@ApiTags('invitations')
@Controller('organizations/:orgId/invitations')
export class OrganizationInvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Post()
  @RequirePermissions('members:invite')
  @ApiOperation({
    summary: 'Invite someone by email',
    description:
      'Needs members:invite, and every permission of the invited roles (default: member). Mails a single-use link valid INVITATION_TTL; the token is never returned. 409 already-member or already-invited.',
  })
  @ApiCreatedResponse({ type: InvitationDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  create(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: CreateInvitationDto,
  ): Promise<InvitationDto> {
    return this.invitations.create(principal, orgId, dto);
  }

  @Get()
  @RequirePermissions('members:read')
  @ApiOperation({
    summary: "The organization's invitations",
    description: 'Needs members:read. Newest first; ?status filters.',
  })
  @ApiOkResponse({ type: InvitationPageDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  list(@UuidParam('orgId') orgId: string, @Query() query: InvitationQueryDto): Promise<InvitationPageDto> {
    return this.invitations.list(orgId, query);
  }

  @Get(':invitationId')
  @RequirePermissions('members:read')
  @ApiOperation({ summary: 'One invitation', description: 'Needs members:read.' })
  @ApiOkResponse({ type: InvitationDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  get(@UuidParam('orgId') orgId: string, @UuidParam('invitationId') id: string): Promise<InvitationDto> {
    return this.invitations.get(orgId, id);
  }

  @Delete(':invitationId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions('members:invite')
  @ApiOperation({
    summary: 'Revoke an invitation',
    description: 'Needs members:invite. Its link stops working; revoking twice is harmless; 409 once accepted.',
  })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  async revoke(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('invitationId') id: string,
  ): Promise<void> {
    await this.invitations.revoke(principal, orgId, id);
  }

  @Post(':invitationId/resend')
  @HttpCode(HttpStatus.OK)
  @RequirePermissions('members:invite')
  @ApiOperation({
    summary: 'Send an invitation again',
    description:
      'Needs members:invite and every permission of its roles. A new link with a new validity period replaces the old one. 409 accepted, 410 revoked.',
  })
  @ApiOkResponse({ type: InvitationDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409, 410)
  resend(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('invitationId') id: string,
  ): Promise<InvitationDto> {
    return this.invitations.resend(principal, orgId, id);
  }
}
