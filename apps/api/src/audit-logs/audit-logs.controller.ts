import { CurrentUser, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePermissions, RequirePlatformAdmin } from '@app/rbac';
import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { AuditLogsService } from './audit-logs.service';
import {
  AdminAuditLogQueryDto,
  AuditLogPageDto,
  AuditLogQueryDto,
  ChainVerificationDto,
  ExportQueryDto,
  SecurityEventQueryDto,
} from './dto/audit-log.dto';

@ApiTags('audit log')
@Controller()
export class AuditLogsController {
  constructor(private readonly auditLogs: AuditLogsService) {}

  @Get('organizations/:orgId/audit-logs')
  @RequirePermissions('audit-logs:read')
  @ApiOperation({
    summary: "The organization's audit log",
    description: 'Needs audit-logs:read. Newest first; filters combine; follow nextCursor for older entries.',
  })
  @ApiOkResponse({ type: AuditLogPageDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  list(@UuidParam('orgId') orgId: string, @Query() query: AuditLogQueryDto): Promise<AuditLogPageDto> {
    return this.auditLogs.list(orgId, query);
  }

  @Get('organizations/:orgId/audit-logs/export')
  @RequirePermissions('audit-logs:read')
  @ApiOperation({
    summary: 'Export the audit log',
    description:
      'Needs audit-logs:read. Oldest first, streamed as NDJSON (default) or CSV (cells that a spreadsheet would run as formulas are quoted), with the same filters.',
  })
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({ description: 'One entry per line.' })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  export(@UuidParam('orgId') orgId: string, @Query() query: ExportQueryDto): StreamableFile {
    const { format, cursor: _cursor, limit: _limit, ...filters } = query;
    return new StreamableFile(Readable.from(this.auditLogs.export(orgId, filters, format)), {
      type: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      disposition: `attachment; filename="audit-log-${orgId}.${format}"`,
    });
  }

  @Get('organizations/:orgId/audit-logs/verify')
  @RequirePermissions('audit-logs:read')
  @ApiOperation({
    summary: 'Verify the audit log hash chain',
    description: 'Needs audit-logs:read. Recomputes every hash and reports the first broken link.',
  })
  @ApiOkResponse({ type: ChainVerificationDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  verify(@UuidParam('orgId') orgId: string): Promise<ChainVerificationDto> {
    return this.auditLogs.verify(orgId);
  }

  @Get('users/me/security-events')
  @ApiOperation({
    summary: 'Your sign-in and account history',
    description:
      'Authenticated. Sign-ins, failures, lockouts, password, MFA, passkey and session events, and impersonations of you; newest first.',
  })
  @ApiOkResponse({ type: AuditLogPageDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403)
  securityEvents(
    @CurrentUser() principal: UserPrincipal,
    @Query() query: SecurityEventQueryDto,
  ): Promise<AuditLogPageDto> {
    return this.auditLogs.securityEvents(principal.userId, query);
  }

  @Get('admin/audit-logs')
  @RequirePlatformAdmin()
  @ApiOperation({
    summary: 'The audit log of every organization',
    description: 'Platform admins only. Newest first; ?organizationId narrows it.',
  })
  @ApiOkResponse({ type: AuditLogPageDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403)
  adminList(@Query() query: AdminAuditLogQueryDto): Promise<AuditLogPageDto> {
    return this.auditLogs.adminList(query);
  }
}
