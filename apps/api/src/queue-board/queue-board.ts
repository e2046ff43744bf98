import { AuditService } from '@app/audit';
import { ProblemException, sendProblem } from '@app/common';
import { type AppConfig } from '@app/config';
import { BullMqJobQueue, DEFAULT_QUEUE, JobQueue, ProcessorRegistry } from '@app/queue';
import { PlatformAdmins } from '@app/rbac';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BOARD_PATH, boardCookie, BoardTickets } from './board-ticket';

const logger = new Logger('QueueBoard');

function refuse(status: 401 | 403, detail: string, request: FastifyRequest, reply: FastifyReply): void {
  sendProblem(
    new ProblemException({
      status,
      slug: status === 401 ? 'queue-board-ticket-required' : 'platform-admin-required',
      title: status === 401 ? 'Unauthorized' : 'Forbidden',
      detail,
    }),
    request,
    reply,
    logger,
  );
}

/**
 * Bull Board at /admin/queues, for platform admins holding a board ticket (see BoardTickets and
 * `POST /api/v1/admin/queues/session`). Every request re-checks that the ticket's user is still a
 * platform admin; every change made through it (retry, clean, pause, ...) is audited. Only with
 * Redis: in-process jobs have no queue to show.
 */
export function mountQueueBoard(app: NestFastifyApplication, config: AppConfig): void {
  const jobs = app.get(JobQueue);
  const fastify = app.getHttpAdapter().getInstance();
  if (!(jobs instanceof BullMqJobQueue)) {
    fastify.all(`${BOARD_PATH}*`, (request, reply) => {
      sendProblem(
        new ProblemException({
          status: 404,
          slug: 'queue-board-unavailable',
          title: 'Not Found',
          detail: 'The queue dashboard needs Redis (REDIS_URL): without it jobs run in-process.',
        }),
        request,
        reply,
        logger,
      );
    });
    return;
  }
  const registry = app.get(ProcessorRegistry);
  const admins = app.get(PlatformAdmins);
  const audit = app.get(AuditService);
  const tickets = new BoardTickets(config.jwtSecret);
  const names = [...new Set([DEFAULT_QUEUE, ...registry.queues()])];

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: names.map((name) => new BullMQAdapter(jobs.queue(name))),
    serverAdapter,
    options: { uiConfig: { boardTitle: `${config.appName} queues` } },
  });

  void fastify.register(
    async (board) => {
      board.addHook('onRequest', async (request, reply) => {
        const userId = tickets.verify(boardCookie(request.headers.cookie));
        if (!userId) {
          return refuse(401, 'Open POST /api/v1/admin/queues/session first (platform admins).', request, reply);
        }
        if (!(await admins.isPlatformAdmin(userId))) {
          return refuse(403, 'Only platform admins may use the queue dashboard.', request, reply);
        }
        (request as { boardUserId?: string }).boardUserId = userId;
        return undefined;
      });
      board.addHook('onResponse', async (request, reply) => {
        if (request.method === 'GET' || request.method === 'HEAD') return;
        const userId = (request as { boardUserId?: string }).boardUserId;
        if (!userId) return;
        await audit
          .record({
            action: 'queues.board',
            outcome: reply.statusCode < 400 ? 'success' : 'failure',
            actorId: userId,
            targetType: 'queue',
            targetId: (request.params as { queueName?: string } | undefined)?.queueName?.slice(0, 100) ?? null,
            metadata: {
              method: request.method,
              path: request.url.split('?')[0]?.slice(0, 300),
              status: reply.statusCode,
            },
          })
          .catch((error: unknown) => logger.warn(`queue board action not audited: ${String(error)}`));
      });
      await board.register(serverAdapter.registerPlugin());
    },
    { prefix: BOARD_PATH },
  );
}
