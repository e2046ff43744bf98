import { AuditService } from '@app/audit';
import { ProblemException, sendProblem } from '@app/common';
import { type AppConfig } from '@app/config';
import { BullMqJobQueue, DEFAULT_QUEUE, definedJobs, JobQueue } from '@app/queue';
import { SessionRegistry } from '@app/auth';
import { PlatformAdmins } from '@app/rbac';
import type * as BullBoardApi from '@bull-board/api';
import type * as BullBoardBullMq from '@bull-board/api/bullMQAdapter';
import type * as BullBoardFastify from '@bull-board/fastify';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BOARD_PATH, boardCookie, BoardTickets } from './board-ticket';

const logger = new Logger('QueueBoard');

/**
 * Board actions refused even to platform admins: writing jobs or their data (a mail job with any
 * recipient and text, past every check of the api), and throwing queued work away wholesale (jobs
 * the api already acknowledged). Retry, promote, clean, pause and resume stay.
 */
const REFUSED_ACTIONS: Array<[string, RegExp]> = [
  ['POST', /\/api\/queues\/[^/]+\/add$/],
  ['PATCH', /\/api\/queues\/[^/]+\/[^/]+\/update-data$/],
  ['PUT', /\/api\/queues\/[^/]+\/(empty|obliterate)$/],
  ['PUT', /\/api\/queues\/[^/]+\/job-schedulers\/[^/]+\/remove$/],
  ['PATCH', /\/api\/queues\/[^/]+\/job-schedulers\/[^/]+$/],
];

/** Job payloads are not shown: mail jobs carry sign-in, reset and invitation links. */
const HIDDEN = '[hidden: job payloads may carry links and tokens]';

function refuse(status: 401 | 403, slug: string, detail: string, request: FastifyRequest, reply: FastifyReply) {
  sendProblem(
    new ProblemException({ status, slug, title: status === 401 ? 'Unauthorized' : 'Forbidden', detail }),
    request,
    reply,
    logger,
  );
  return reply;
}

/**
 * Bull Board at /admin/queues, for platform admins holding a board ticket (see BoardTickets and
 * `POST /api/v1/admin/queues/session`). Every request re-checks that the ticket's session is alive
 * and its user still a platform admin; every change made through it (retry, clean, pause, ...) is audited. Only with
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
  const admins = app.get(PlatformAdmins);
  const sessions = app.get(SessionRegistry);
  const audit = app.get(AuditService);
  const tickets = new BoardTickets(config.jwtSecret);
  // From the job definitions: the processors are not registered yet while the app is being built.
  const names = [...new Set([DEFAULT_QUEUE, ...definedJobs().map((job) => job.queue)])];

  // Loaded only here: without Redis there is no board, and its ~60 modules stay on disk.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { createBullBoard } = require('@bull-board/api') as typeof BullBoardApi;
  const { BullMQAdapter } = require('@bull-board/api/bullMQAdapter') as typeof BullBoardBullMq;
  const { FastifyAdapter } = require('@bull-board/fastify') as typeof BullBoardFastify;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: names.map((name) => {
      const adapter = new BullMQAdapter(jobs.queue(name));
      adapter.setFormatter('data', () => HIDDEN);
      adapter.setFormatter('returnValue', () => HIDDEN);
      return adapter;
    }),
    serverAdapter,
    options: { uiConfig: { boardTitle: `${config.appName} queues` } },
  });

  void fastify.register(
    async (board) => {
      board.addHook('onRequest', async (request, reply) => {
        const holder = tickets.verify(boardCookie(request.headers.cookie));
        // The session the ticket came from, through the same registry the bearer guard asks.
        if (!holder || !(await sessions.isActive(holder.sessionId, holder.userId))) {
          const detail = 'Open POST /api/v1/admin/queues/session first (platform admins, from a live session).';
          return refuse(401, 'queue-board-ticket-required', detail, request, reply);
        }
        const userId = holder.userId;
        if (!(await admins.isPlatformAdmin(userId))) {
          const detail = 'Only platform admins may use the queue dashboard.';
          return refuse(403, 'platform-admin-required', detail, request, reply);
        }
        (request as { boardUserId?: string }).boardUserId = userId;
        const path = request.url.split('?')[0] ?? '';
        if (REFUSED_ACTIONS.some(([method, pattern]) => method === request.method && pattern.test(path))) {
          const detail = 'Adding or editing jobs, and emptying queues, is not offered here.';
          return refuse(403, 'queue-board-action-refused', detail, request, reply);
        }
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
