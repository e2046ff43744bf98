import { AuditService } from '@app/audit';
import { CurrentUser, type UserPrincipal } from '@app/auth';
import { DependencyReport, TenantTransaction } from '@app/database';
import { DependencyCheckJob } from '@app/jobs';
import { Outbox } from '@app/queue';
import { RequirePlatformAdmin } from '@app/rbac';
import { Controller, Get, HttpCode, HttpStatus, NotFoundException, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { DependencyCheckQueuedDto, DependencyReportDto } from './dependency-report.dto';

/** The installation's npm packages against the registry (the seed's PyPI check), for its operators. */
@ApiTags('admin')
@Controller('admin/dependencies')
export class DependenciesAdminController {
  constructor(
    private readonly transactions: TenantTransaction,
    private readonly outbox: Outbox,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @RequirePlatformAdmin()
  @ApiOperation({
    summary: 'The latest dependency report',
    description:
      'Platform admins only. Each installed package with its latest version in the registry and how far behind ' +
      'it is (patch, minor, major); lookups that failed are `unknown` with the reason. Made by a scheduled job ' +
      '(DEPENDENCY_CHECK_CRON) or on demand (POST …/check). 404 until a check has run.',
  })
  @ApiOkResponse({ type: DependencyReportDto })
  @ApiAuthenticated()
  @ApiProblems(403, 404)
  async latest(): Promise<DependencyReportDto> {
    const [report] = await this.transactions.runAsSystem((manager) =>
      manager.find(DependencyReport, { order: { createdAt: 'DESC', id: 'DESC' }, take: 1 }),
    );
    if (!report) throw new NotFoundException('No dependency check has run yet; POST /api/v1/admin/dependencies/check.');
    return DependencyReportDto.from(report);
  }

  @Post('check')
  @HttpCode(HttpStatus.ACCEPTED)
  @RequirePlatformAdmin()
  @ApiOperation({
    summary: 'Check the dependencies now',
    description: 'Platform admins only. Queues a check; the report replaces the latest when it is done. Audited.',
  })
  @ApiAcceptedResponse({ type: DependencyCheckQueuedDto })
  @ApiAuthenticated()
  @ApiProblems(403)
  async check(@CurrentUser() admin: UserPrincipal): Promise<DependencyCheckQueuedDto> {
    // Through the outbox: the request never waits for Redis, and the audit row and the job go together.
    const jobId = await this.transactions.runAsSystem(async (manager) => {
      const id = await this.outbox.add(manager, DependencyCheckJob, {});
      await this.audit.record(
        { action: 'dependencies.check', outcome: 'success', actorId: admin.userId, targetType: 'job', targetId: id },
        manager,
      );
      return id;
    });
    return { jobId };
  }
}
