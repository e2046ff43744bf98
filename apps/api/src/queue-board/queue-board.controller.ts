import { AuditService } from '@app/audit';
import { CurrentUser, type UserPrincipal } from '@app/auth';
import { AppConfig } from '@app/config';
import { BullMqJobQueue, JobQueue } from '@app/queue';
import { RequirePlatformAdmin } from '@app/rbac';
import { Controller, HttpCode, HttpStatus, NotFoundException, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { BOARD_COOKIE, BOARD_PATH, BOARD_TICKET_TTL, BoardTickets } from './board-ticket';

export class QueueBoardSessionDto {
  @ApiProperty({ example: BOARD_PATH, description: 'Open it in the same browser.' })
  url!: string;

  @ApiProperty()
  expiresAt!: Date;
}

/** Hands a platform admin the cookie the queue dashboard (a browser page) is opened with. */
@ApiTags('admin')
@Controller('admin/queues')
export class QueueBoardController {
  private readonly tickets: BoardTickets;

  constructor(
    private readonly config: AppConfig,
    private readonly jobs: JobQueue,
    private readonly audit: AuditService,
  ) {
    this.tickets = new BoardTickets(config.jwtSecret);
  }

  @Post('session')
  @HttpCode(HttpStatus.OK)
  @RequirePlatformAdmin()
  @ApiOperation({
    summary: 'Open the queue dashboard',
    description:
      `Platform admins only. Sets a ${BOARD_TICKET_TTL / 60}-minute HttpOnly, SameSite=Strict cookie for ` +
      `${BOARD_PATH} (Bull Board), then open that page in the same browser. The ticket belongs to the session ` +
      'that asked for it: every dashboard request re-checks that session (signing out or a revocation ends the ' +
      'ticket on every replica) and platform admin; changes made there are audited (`queues.board`). 404 without ' +
      'Redis (jobs run in-process).',
  })
  @ApiOkResponse({ type: QueueBoardSessionDto })
  @ApiAuthenticated()
  @ApiProblems(403, 404)
  async open(
    @CurrentUser() admin: UserPrincipal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QueueBoardSessionDto> {
    if (!(this.jobs instanceof BullMqJobQueue)) {
      throw new NotFoundException('The queue dashboard needs Redis (REDIS_URL): without it jobs run in-process.');
    }
    const ticket = this.tickets.issue({ userId: admin.userId, sessionId: admin.sessionId });
    const attributes = [
      `${BOARD_COOKIE}=${ticket.value}`,
      `Path=${BOARD_PATH}`,
      `Max-Age=${BOARD_TICKET_TTL}`,
      'HttpOnly',
      'SameSite=Strict',
      ...(this.config.isProduction ? ['Secure'] : []),
    ];
    void reply.header('set-cookie', attributes.join('; '));
    await this.audit.record({
      action: 'queues.board.open',
      outcome: 'success',
      actorId: admin.userId,
      targetType: 'queue-board',
    });
    return { url: BOARD_PATH, expiresAt: ticket.expiresAt };
  }
}
