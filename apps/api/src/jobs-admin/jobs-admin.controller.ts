import { AuditService } from '@app/audit';
import { CurrentUser, type UserPrincipal } from '@app/auth';
import { DeadLetters } from '@app/queue';
import { RequirePlatformAdmin } from '@app/rbac';
import { Controller, Delete, Get, HttpCode, HttpStatus, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageQueryDto } from '../common/page-query.dto';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { DeadLetterDto, DeadLetterPageDto } from './dto/dead-letter.dto';
import { JobIdPipe } from './job-id.pipe';

/** The dead letters: jobs that failed every attempt. For the operators of the installation. */
@ApiTags('admin')
@Controller('admin/jobs')
export class JobsAdminController {
  constructor(
    private readonly deadLetters: DeadLetters,
    private readonly audit: AuditService,
  ) {}

  @Get('failed')
  @RequirePlatformAdmin()
  @ApiOperation({
    summary: 'Jobs that failed every attempt',
    description: 'Platform admins only. Newest first. Payloads are not shown (they may carry links and tokens).',
  })
  @ApiOkResponse({ type: DeadLetterPageDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403)
  async failed(@Query() query: PageQueryDto): Promise<DeadLetterPageDto> {
    const { items, total } = await this.deadLetters.list((query.page - 1) * query.pageSize, query.pageSize);
    return {
      items: items.map((letter) => DeadLetterDto.from(letter)),
      total,
      page: query.page,
      pageSize: query.pageSize,
    };
  }

  @Get(':jobId')
  @RequirePlatformAdmin()
  @ApiOperation({ summary: 'A failed job', description: 'Platform admins only.' })
  @ApiOkResponse({ type: DeadLetterDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async get(@Param('jobId', JobIdPipe) jobId: string): Promise<DeadLetterDto> {
    const letter = await this.deadLetters.get(jobId);
    if (!letter) throw new NotFoundException('No failed job with this id.');
    return DeadLetterDto.from(letter);
  }

  @Post(':jobId/retry')
  @HttpCode(HttpStatus.ACCEPTED)
  @RequirePlatformAdmin()
  @ApiOperation({
    summary: 'Run a failed job again',
    description: 'Platform admins only. Back into its queue with a fresh set of attempts.',
  })
  @ApiAcceptedResponse({ description: 'Queued again.' })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async retry(@CurrentUser() admin: UserPrincipal, @Param('jobId', JobIdPipe) jobId: string): Promise<void> {
    const letter = await this.deadLetters.retry(jobId);
    if (!letter) throw new NotFoundException('No failed job with this id.');
    await this.record(admin, 'job.retry', letter.id, letter.name);
  }

  @Delete(':jobId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePlatformAdmin()
  @ApiOperation({ summary: 'Discard a failed job', description: 'Platform admins only.' })
  @ApiNoContentResponse()
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async discard(@CurrentUser() admin: UserPrincipal, @Param('jobId', JobIdPipe) jobId: string): Promise<void> {
    const letter = await this.deadLetters.discard(jobId);
    if (!letter) throw new NotFoundException('No failed job with this id.');
    await this.record(admin, 'job.discard', letter.id, letter.name);
  }

  private record(admin: UserPrincipal, action: string, jobId: string, name: string): Promise<void> {
    return this.audit.record({
      action,
      outcome: 'success',
      actorId: admin.userId,
      targetType: 'job',
      targetId: jobId.slice(0, 100),
      metadata: { job: name },
    });
  }
}
