import { CurrentUser, NoImpersonation, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePermissions } from '@app/rbac';
import { Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { AccountExportService } from './account-export.service';
import { AccountExportDto } from './dto/account-export.dto';

@ApiTags('organizations')
@Controller('organizations/:orgId/exports')
export class OrganizationExportsController {
  constructor(private readonly exports: AccountExportService) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @RequirePermissions('organizations:delete')
  @NoImpersonation()
  @ApiOperation({
    summary: "Export the organization's data",
    description:
      'Needs organizations:delete (owners). A background job gathers the organization, its members with their ' +
      'addresses and roles, teams, custom roles, projects, invitations, the metadata of its API keys, webhook ' +
      'endpoints, SSO connections and domains (no secret), and its audit log, and mails a single-use link to ' +
      'you; the download (POST /users/me/export/download) works only while you are still an owner. One at a time.',
  })
  @ApiAcceptedResponse({ type: AccountExportDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 410)
  request(@CurrentUser() principal: UserPrincipal, @UuidParam('orgId') orgId: string): Promise<AccountExportDto> {
    return this.exports.requestForOrganization(principal, orgId);
  }

  @Get(':exportId')
  @RequirePermissions('organizations:delete')
  @ApiOperation({ summary: "An organization's export", description: 'Needs organizations:delete (owners).' })
  @ApiOkResponse({ type: AccountExportDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 410)
  status(@UuidParam('orgId') orgId: string, @UuidParam('exportId') exportId: string): Promise<AccountExportDto> {
    return this.exports.organizationStatus(orgId, exportId);
  }
}
