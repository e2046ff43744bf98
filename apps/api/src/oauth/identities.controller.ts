import { CurrentUser, NoImpersonation, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { Controller, Delete, Get, HttpCode, HttpStatus } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { IdentityDto } from './dto/oauth.dto';
import { OAuthService } from './oauth.service';

@ApiTags('sign-in providers')
@Controller('users/me/identities')
export class IdentitiesController {
  constructor(private readonly oauth: OAuthService) {}

  @Get()
  @ApiOperation({ summary: 'Your linked sign-in identities', description: 'Authenticated.' })
  @ApiOkResponse({ type: [IdentityDto] })
  @ApiAuthenticated()
  @ApiProblems(403)
  list(@CurrentUser() principal: UserPrincipal): Promise<IdentityDto[]> {
    return this.oauth.identities(principal.userId);
  }

  @NoImpersonation()
  @Delete(':identityId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Unlink a sign-in identity',
    description: 'Authenticated. 409 last-sign-in-method when you have no password and no other identity.',
  })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  async unlink(@CurrentUser() principal: UserPrincipal, @UuidParam('identityId') identityId: string): Promise<void> {
    await this.oauth.unlink(principal, identityId);
  }
}
