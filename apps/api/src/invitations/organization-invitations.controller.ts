import { CurrentUser, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePermissions } from '@app/rbac';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { ProblemDetailsDto } from '../openapi/problem-details.dto';
import { CreateInvitationDto, InvitationDto, InvitationPageDto, InvitationQueryDto } from './dto/invitation.dto';
import { InvitationsService } from './invitations.service';

/** The 429 of the routes that mail an invitation: the rate limit, or the organization's daily bound. */
const DAILY_BOUND_RESPONSE = ApiResponse({
  status: 429,
  description:
    'Rate limited (`/problems/rate-limited`), or `/problems/invitation-limit`: the organization has sent ' +
    'INVITATIONS_PER_ORG_PER_DAY invitation mails (new and resent) in the last 24 hours. Retry-After says ' +
    'when the next place frees up; the refusal is audited.',
  type: ProblemDetailsDto,
});

@ApiTags('invitations')
@Controller('organizations/:orgId/invitations')
export class OrganizationInvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Post()
  @RequirePermissions('members:invite')
  @ApiOperation({
    summary: 'Invite someone by email',
    description:
      'Needs members:invite, and every permission of the invited roles (default: member). Mails a single-use link valid INVITATION_TTL; the token is never returned. 409 already-member or already-invited. ' +
      'At most INVITATIONS_PER_ORG_PER_DAY invitation mails (new and resent) per organization in any 24 hours: 429 invitation-limit with Retry-After beyond.',
  })
  @ApiCreatedResponse({ type: InvitationDto })
  @DAILY_BOUND_RESPONSE
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
      'Needs members:invite and every permission of its roles. A new link with a new validity period replaces the old one. 409 accepted, 410 revoked. ' +
      'Counts toward INVITATIONS_PER_ORG_PER_DAY like a new invitation: 429 invitation-limit with Retry-After beyond.',
  })
  @ApiOkResponse({ type: InvitationDto })
  @DAILY_BOUND_RESPONSE
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
