import { CurrentPrincipal, type Principal } from '@app/auth';
import { ProblemException, UuidParam } from '@app/common';
import { AppConfig } from '@app/config';
import { PermissionResolver, RequirePermissions } from '@app/rbac';
import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { EventStreams } from './event-streams';

@ApiTags('realtime events')
@Controller('organizations/:orgId/events')
export class EventsStreamController {
  constructor(
    private readonly config: AppConfig,
    private readonly streams: EventStreams,
    private readonly permissions: PermissionResolver,
  ) {}

  @Get('stream')
  @RequirePermissions('organizations:read')
  @ApiProduces('text/event-stream')
  @ApiOperation({
    summary: 'The organization’s events, live (Server-Sent Events)',
    description:
      'Any member (organizations:read), signed in as a person (an access token; API keys use webhooks). Each ' +
      'committed event of the catalogue (GET /webhooks/event-types) the caller may see (its permission) as ' +
      '`id: <event id>`, `event: <type>`, `data: {type, timestamp, data}`; `: ping` every EVENTS_HEARTBEAT. ' +
      'Send Last-Event-ID to resume after a reconnect (a bounded buffer of 5 minutes); `event: resync` means ' +
      'the gap is older than the buffer (read the state again). The stream ends with `event: closed` and a ' +
      'reason when the session ends or the membership does. At most EVENTS_MAX_STREAMS_PER_USER per person ' +
      'per replica (429).',
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'The last event id received.' })
  @ApiResponse({ status: 200, description: 'text/event-stream, open until either side closes it.' })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 503)
  async stream(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('orgId') orgId: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (principal.kind !== 'user') {
      throw new ProblemException({
        status: 403,
        slug: 'people-only',
        title: 'Forbidden',
        detail: 'The event stream is for people signed in; machines subscribe with webhooks.',
      });
    }
    if (this.streams.draining) {
      throw new ProblemException({
        status: 503,
        slug: 'shutting-down',
        title: 'Service Unavailable',
        detail: 'This replica is shutting down: connect again.',
      });
    }
    const limits = this.config.events;
    if (this.streams.size >= limits.maxStreams || this.streams.countFor(principal.userId) >= limits.maxStreamsPerUser) {
      throw new ProblemException({
        status: 429,
        slug: 'too-many-streams',
        title: 'Too Many Requests',
        detail: 'Too many open event streams: close one first.',
      });
    }
    const membership = await this.permissions.resolve(principal.userId, orgId);
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store',
      connection: 'keep-alive',
      // Proxies (nginx) must pass events through as they come.
      'x-accel-buffering': 'no',
      'x-request-id': String(reply.request.id),
    });
    response.flushHeaders();
    this.streams.open(
      response,
      {
        orgId,
        userId: principal.userId,
        sessionId: principal.sessionId,
        authMethod: principal.authMethod,
        permissions: membership?.permissions ?? new Set<string>(),
      },
      typeof lastEventId === 'string' && /^[0-9a-f-]{36}$/i.test(lastEventId) ? lastEventId.toLowerCase() : undefined,
    );
  }
}
