import { CurrentUser, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { Body, Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { AcceptInvitationDto, ReceivedInvitationDto } from './dto/invitation.dto';
import { MembershipDto } from './dto/membership.dto';
import { InvitationsService } from './invitations.service';

const ACCEPT_ERRORS =
  '403 email-not-verified or invitation-email-mismatch; 409 invitation-used, already-member or invitation-stale; 410 invitation-expired or invitation-revoked.';

/** The invitee's side: invitations to my verified address, and accepting them. */
@ApiTags('invitations')
@Controller('invitations')
export class InvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Get()
  @ApiOperation({
    summary: 'Invitations to my email address',
    description: 'Authenticated, with a verified email (403 email-not-verified otherwise). Pending ones only.',
  })
  @ApiOkResponse({ type: [ReceivedInvitationDto] })
  @ApiAuthenticated()
  @ApiProblems(403)
  received(@CurrentUser() principal: UserPrincipal): Promise<ReceivedInvitationDto[]> {
    return this.invitations.received(principal);
  }

  @Post('accept')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Accept an invitation with its token',
    description: `Authenticated; your verified email must be the invited address. 404 invitation-not-found; ${ACCEPT_ERRORS}`,
  })
  @ApiOkResponse({ type: MembershipDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409, 410)
  accept(@CurrentUser() principal: UserPrincipal, @Body() dto: AcceptInvitationDto): Promise<MembershipDto> {
    return this.invitations.acceptToken(principal, dto.token);
  }

  @Post(':invitationId/accept')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Accept an invitation listed by GET /invitations',
    description: `Authenticated; your verified email is the proof, no token needed. 404 if it is not addressed to you; ${ACCEPT_ERRORS}`,
  })
  @ApiOkResponse({ type: MembershipDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409, 410)
  acceptListed(@CurrentUser() principal: UserPrincipal, @UuidParam('invitationId') id: string): Promise<MembershipDto> {
    return this.invitations.acceptById(principal, id);
  }
}
