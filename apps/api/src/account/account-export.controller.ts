import { CurrentUser, NoImpersonation, Public, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { Body, Controller, Get, HttpCode, HttpStatus, Post, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { CredentialEndpoint } from '../rate-limit/rate-limit.decorator';
import { AccountExportService } from './account-export.service';
import { AccountExportDownloadDto, AccountExportDto } from './dto/account-export.dto';

@ApiTags('users')
@Controller('users/me')
export class AccountExportController {
  constructor(private readonly exports: AccountExportService) {}

  @Post('export')
  @NoImpersonation()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Export your data',
    description:
      'Authenticated. A background job gathers your profile, memberships, sessions, identities, passkeys, ' +
      'API keys you created (metadata) and the audit rows about you, and mails a single-use link to your ' +
      'address (ACCOUNT_EXPORT_TTL). One at a time: while one is being built, this answers that one.',
  })
  @ApiAcceptedResponse({ type: AccountExportDto })
  @ApiAuthenticated()
  @ApiProblems(403)
  request(@CurrentUser() principal: UserPrincipal): Promise<AccountExportDto> {
    return this.exports.request(principal);
  }

  @Get('exports/:exportId')
  @ApiOperation({ summary: 'An export of yours', description: 'Authenticated; your own exports only (404 otherwise).' })
  @ApiOkResponse({ type: AccountExportDto })
  @ApiAuthenticated()
  @ApiProblems(400, 404)
  status(@CurrentUser() principal: UserPrincipal, @UuidParam('exportId') exportId: string): Promise<AccountExportDto> {
    return this.exports.status(principal, exportId);
  }

  @Public()
  @Post('export/download')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Download an export',
    description:
      'Public: the token from the mailed link is the credential. Works once; the stored copy is dropped ' +
      'with it. 410 `export-link-invalid` for a used, expired or unknown token.',
  })
  @ApiOkResponse({ description: 'The export, as a JSON attachment (format saas-account-export/1).' })
  @ApiProblems(400, 410, 429)
  async download(
    @Body() dto: AccountExportDownloadDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    const { archive, createdAt } = await this.exports.download(dto.token);
    void reply.header(
      'content-disposition',
      `attachment; filename="account-export-${createdAt.toISOString().slice(0, 10)}.json"`,
    );
    void reply.header('cache-control', 'no-store');
    return archive;
  }
}
