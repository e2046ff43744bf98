import { SessionRegistry } from '@app/auth';
import { AppConfig } from '@app/config';
import { eventDefinition, EVENTS_TOPIC, type DomainEvent } from '@app/events';
import { InvalidationBus } from '@app/queue';
import { PermissionResolver, PlatformAdmins } from '@app/rbac';
import { Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ServerResponse } from 'node:http';

/** Events kept per organization for Last-Event-ID resumes, and for how long. */
const BUFFER_EVENTS = 500;
const BUFFER_MS = 5 * 60_000;
/** Events buffered on one replica in all (the oldest organization's buffer goes first). */
const BUFFERED_EVENTS = 50_000;
/** Bytes a slow reader may leave unread before its stream is closed. */
const MAX_UNREAD_BYTES = 1024 * 1024;

export type StreamCloseReason = 'session-ended' | 'membership-ended' | 'sso-required' | 'too-slow' | 'shutting-down';

interface Stream {
  orgId: string;
  userId: string;
  sessionId: string;
  /** How the session signed in (an organization that enforces SSO needs sso:<its connection>). */
  authMethod: string;
  permissions: ReadonlySet<string>;
  response: ServerResponse;
  closed: boolean;
}

/**
 * The organizations' realtime streams on this replica. Committed events arrive on the bus (from
 * this replica, the others and the worker, through Redis pub/sub; in-process without Redis), go
 * into the organization's bounded buffer, and out to every stream whose person may see the type.
 * A stream is checked again at every heartbeat and at once when its session or its membership
 * changes anywhere (the same invalidations the caches use), and closed when it no longer passes.
 */
@Injectable()
export class EventStreams implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('EventStreams');
  private readonly byOrg = new Map<string, Set<Stream>>();
  private readonly buffers = new Map<string, DomainEvent[]>();
  /** When an organization last had a stream here: its events are buffered while this is recent. */
  private readonly watchedAt = new Map<string, number>();
  private buffered = 0;
  private timer: NodeJS.Timeout | undefined;
  private beating = false;
  /** Set when the api starts draining: open streams are closed, new ones refused (503). */
  draining = false;

  constructor(
    private readonly config: AppConfig,
    private readonly bus: InvalidationBus,
    private readonly sessions: SessionRegistry,
    private readonly permissions: PermissionResolver,
    private readonly admins: PlatformAdmins,
  ) {}

  onModuleInit(): void {
    this.bus.on(EVENTS_TOPIC, (payload) => this.fanOut(payload as DomainEvent));
    // After the caches have forgotten (their handlers run in this same dispatch), look again.
    this.bus.on('permissions', (payload) =>
      setImmediate(() => void this.recheckWhere(payload as { organizationId?: string; userId?: string })),
    );
    this.bus.on('sessions', (payload) =>
      setImmediate(() => void this.recheckWhere(payload as { userId?: string; sessionIds?: string[] })),
    );
    this.timer = setInterval(() => void this.heartbeat(), this.config.events.heartbeatSeconds * 1000);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    this.closeAll();
  }

  /** Shutdown: every stream ends (the drain would otherwise wait on them), and no new one opens. */
  closeAll(): void {
    this.draining = true;
    clearInterval(this.timer);
    for (const streams of [...this.byOrg.values()])
      for (const stream of [...streams]) this.close(stream, 'shutting-down');
  }

  /** How many streams this replica holds (the metrics gauge and the limit read it). */
  get size(): number {
    let count = 0;
    for (const streams of this.byOrg.values()) count += streams.size;
    return count;
  }

  countFor(userId: string): number {
    let count = 0;
    for (const streams of this.byOrg.values()) for (const stream of streams) if (stream.userId === userId) count++;
    return count;
  }

  /** Starts a stream on a hijacked response; replays what the buffer holds after `lastEventId`. */
  open(
    response: ServerResponse,
    who: { orgId: string; userId: string; sessionId: string; authMethod: string; permissions: ReadonlySet<string> },
    lastEventId: string | undefined,
  ): void {
    // The client may have gone while the request was being authorized: its 'close' has fired already.
    if (response.destroyed || !response.socket || response.socket.destroyed) {
      response.destroy();
      return;
    }
    const stream: Stream = { ...who, response, closed: false };
    const streams = this.byOrg.get(who.orgId) ?? new Set<Stream>();
    streams.add(stream);
    this.byOrg.set(who.orgId, streams);
    this.watchedAt.set(who.orgId, Date.now());
    response.on('close', () => this.forget(stream));
    // The browser's EventSource reconnects after `retry` ms and sends Last-Event-ID.
    this.write(stream, `retry: 3000\n: connected\n\n`);
    if (lastEventId === undefined) return;
    const buffer = this.buffers.get(who.orgId) ?? [];
    const index = buffer.findIndex((event) => event.id === lastEventId);
    // Replayed in the order this replica heard them; an id it does not hold (too old, or heard only
    // by another replica) cannot be placed in that order: the client reads the state again.
    if (index >= 0) for (const event of buffer.slice(index + 1)) this.send(stream, event);
    else this.write(stream, `event: resync\ndata: {}\n\n`);
  }

  private fanOut(event: DomainEvent): void {
    const streams = this.byOrg.get(event.organizationId);
    const watched = (this.watchedAt.get(event.organizationId) ?? 0) > Date.now() - BUFFER_MS;
    // Buffered only for organizations someone streams here (or did within the buffer's span).
    if (streams || watched) {
      const buffer = this.buffers.get(event.organizationId) ?? [];
      // With Redis a replica hears its own publications twice (locally and back from Redis).
      if (buffer.some((kept) => kept.id === event.id)) return;
      buffer.push(event);
      this.buffered += 1;
      while (buffer.length > BUFFER_EVENTS) {
        buffer.shift();
        this.buffered -= 1;
      }
      this.buffers.delete(event.organizationId);
      this.buffers.set(event.organizationId, buffer);
      this.trim();
    }
    for (const stream of streams ?? []) this.send(stream, event);
  }

  /** Drops events past the buffer's span, and the oldest organizations' buffers past the global cap. */
  private trim(): void {
    const horizon = Date.now() - BUFFER_MS;
    for (const [orgId, buffer] of this.buffers) {
      while (buffer[0] && Date.parse(buffer[0].timestamp) < horizon) {
        buffer.shift();
        this.buffered -= 1;
      }
      if (buffer.length === 0) this.buffers.delete(orgId);
    }
    for (const [orgId, buffer] of this.buffers) {
      if (this.buffered <= BUFFERED_EVENTS) break;
      this.buffered -= buffer.length;
      this.buffers.delete(orgId);
    }
    for (const [orgId, at] of this.watchedAt) if (at < horizon && !this.byOrg.has(orgId)) this.watchedAt.delete(orgId);
  }

  private send(stream: Stream, event: DomainEvent): void {
    const definition = eventDefinition(event.type);
    if (!definition || !stream.permissions.has(definition.permission)) return;
    const body = JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
    this.write(stream, `id: ${event.id}\nevent: ${event.type}\ndata: ${body}\n\n`);
  }

  private write(stream: Stream, chunk: string): void {
    if (stream.closed) return;
    if (stream.response.writableLength > MAX_UNREAD_BYTES) {
      this.close(stream, 'too-slow');
      return;
    }
    stream.response.write(chunk);
  }

  private async heartbeat(): Promise<void> {
    const all = [...this.byOrg.values()].flatMap((streams) => [...streams]);
    // Pings first, all of them: a slow recheck must not make a proxy cut a later stream as idle.
    for (const stream of all) this.write(stream, ': ping\n\n');
    this.trim();
    if (this.beating) return;
    this.beating = true;
    try {
      for (const stream of all) await this.recheck(stream);
    } finally {
      this.beating = false;
    }
  }

  private async recheckWhere(change: {
    organizationId?: string;
    userId?: string;
    sessionIds?: string[];
  }): Promise<void> {
    const candidates = change.organizationId
      ? [...(this.byOrg.get(change.organizationId) ?? [])]
      : [...this.byOrg.values()].flatMap((streams) => [...streams]);
    for (const stream of candidates) {
      const touched =
        (change.userId !== undefined && stream.userId === change.userId) ||
        (change.sessionIds?.includes(stream.sessionId) ?? false) ||
        (change.organizationId !== undefined && change.userId === undefined);
      if (touched) await this.recheck(stream);
    }
  }

  /**
   * Closes the stream unless its session is live, its person still a member who may read the
   * organization, and (where the organization enforces single sign-on) the session is one of its
   * SSO sessions or the person may bypass it: what the authorization guard asks of every request.
   */
  private async recheck(stream: Stream): Promise<void> {
    if (stream.closed) return;
    try {
      if (!(await this.sessions.isActive(stream.sessionId, stream.userId))) {
        this.close(stream, 'session-ended');
        return;
      }
      const membership = await this.permissions.resolve(stream.userId, stream.orgId);
      if (!membership?.permissions.has('organizations:read')) {
        this.close(stream, 'membership-ended');
        return;
      }
      const sso = membership.sso;
      if (sso) {
        const method = stream.authMethod;
        const viaSso = method.startsWith('sso:') && sso.connectionIds.includes(method.slice(4));
        if (!viaSso && sso.breakGlassUserId !== stream.userId && !(await this.admins.isPlatformAdmin(stream.userId))) {
          this.close(stream, 'sso-required');
          return;
        }
      }
      stream.permissions = membership.permissions;
    } catch (error) {
      // The database or Redis is out: keep the stream; the next heartbeat looks again.
      this.logger.warn(`could not recheck a stream: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private close(stream: Stream, reason: StreamCloseReason): void {
    if (stream.closed) return;
    stream.closed = true;
    this.forget(stream);
    if (reason === 'too-slow') {
      // Its unread megabyte must not stay behind: cut the connection, not just the stream.
      stream.response.destroy();
      return;
    }
    if (!stream.response.destroyed) stream.response.write(`event: closed\ndata: ${JSON.stringify({ reason })}\n\n`);
    stream.response.end();
  }

  private forget(stream: Stream): void {
    stream.closed = true;
    const streams = this.byOrg.get(stream.orgId);
    streams?.delete(stream);
    if (streams?.size === 0) this.byOrg.delete(stream.orgId);
  }
}
