import { CurrentUser, NoImpersonation, type UserPrincipal } from '@app/auth';
import { Controller, Delete, HttpCode, HttpStatus } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { AccountErasureService } from './account-erasure.service';

@ApiTags('users')
@Controller('users/me')
@NoImpersonation()
export class AccountController {
  constructor(private readonly erasure: AccountErasureService) {}

  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Erase your account',
    description:
      'Authenticated, after a recent sign-in or step-up (403 `step-up-required`). Leaves every organization, ' +
      'ends every session, deletes passkeys, linked identities and pending invitations, and keeps only a ' +
      'pseudonym: audit rows keep the event without the personal data, and the chain still verifies. ' +
      '409 `last-owner` naming each organization you alone own (nothing is erased then).',
  })
  @ApiNoContentResponse()
  @ApiAuthenticated()
  @ApiProblems(403, 409)
  async erase(@CurrentUser() principal: UserPrincipal): Promise<void> {
    await this.erasure.erase(principal);
  }
}
