import { CurrentUser, NoImpersonation, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePlatformAdmin } from '@app/rbac';
import { Body, Controller, Delete, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { ImpersonationDto, StartImpersonationDto } from './dto/impersonation.dto';
import { ImpersonationService } from './impersonation.service';

@ApiTags('admin')
@Controller('admin/impersonations')
@NoImpersonation()
export class ImpersonationController {
  constructor(private readonly impersonation: ImpersonationService) {}

  @Post()
  @RequirePlatformAdmin()
  @ApiOperation({
    summary: 'Act as a user (support)',
    description:
      'Platform admins, after a recent sign-in or step-up (403 `step-up-required`). Read-only unless `write`; ' +
      'time-boxed; the person sees it in their session list and can end it. Refused for platform admins ' +
      '(403 `cannot-impersonate-admin`), deactivated accounts (409 `user-deactivated`) and yourself. Audited with the reason.',
  })
  @ApiCreatedResponse({ type: ImpersonationDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  start(@CurrentUser() admin: UserPrincipal, @Body() dto: StartImpersonationDto): Promise<ImpersonationDto> {
    return this.impersonation.start(admin, dto);
  }

  @Post(':sessionId/token')
  @RequirePlatformAdmin()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'A new access token for your impersonation',
    description: 'Platform admins; only the admin who started it, while it lasts (404 otherwise).',
  })
  @ApiOkResponse({ type: ImpersonationDto })
  @ApiAuthenticated()
  @ApiProblems(403, 404)
  token(@CurrentUser() admin: UserPrincipal, @UuidParam('sessionId') sessionId: string): Promise<ImpersonationDto> {
    return this.impersonation.token(admin, sessionId);
  }

  @Delete(':sessionId')
  @RequirePlatformAdmin()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'End an impersonation', description: 'Platform admins. Audited.' })
  @ApiNoContentResponse()
  @ApiAuthenticated()
  @ApiProblems(403, 404)
  async end(@CurrentUser() admin: UserPrincipal, @UuidParam('sessionId') sessionId: string): Promise<void> {
    await this.impersonation.end(admin, sessionId);
  }
}
