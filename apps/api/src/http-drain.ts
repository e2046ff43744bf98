import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventStreams } from './events-stream/event-streams';

const drains = new WeakMap<NestFastifyApplication, HttpDrain>();

/**
 * Graceful HTTP shutdown, in the order a load balancer needs: stop accepting connections at once,
 * let every request already received finish, then (app.close()) release pools and queues.
 *
 * Nest's own close runs the shutdown hooks first and closes the listener last, so a replica keeps
 * accepting connections (and answering them 503) while it tears down. Here the listener closes
 * first, so new connections are refused and clients go to another replica, and every response sent
 * while draining closes its connection.
 */
export class HttpDrain {
  private draining = false;

  install(fastify: FastifyInstance): void {
    // A request that reaches an open connection while draining is still served (it was accepted);
    // its response closes the connection, so each connection carries at most one more request.
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      if (this.draining) void reply.header('connection', 'close');
      done(null, payload);
    });
  }

  /**
   * Closes the listener and resolves once every connection has ended (each closes after its
   * response), with true; after `timeoutMs` it resolves with false and close() cuts the rest.
   */
  async drain(server: Server, timeoutMs: number): Promise<boolean> {
    this.draining = true;
    // One turn of the event loop first: connections the kernel has already completed and that
    // are waiting to be accepted in this poll are taken (and served) rather than reset.
    await new Promise((resolve) => setImmediate(resolve));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const deadline = Date.now() + timeoutMs;
    let done = false;
    void closed.then(() => (done = true));
    // Keep-alive connections that go idle while draining will not carry another request here.
    while (!done && Date.now() < deadline) {
      server.closeIdleConnections();
      await Promise.race([closed, sleep(50)]);
    }
    return done;
  }
}

export function installHttpDrain(app: NestFastifyApplication, fastify: FastifyInstance): void {
  const drain = new HttpDrain();
  drain.install(fastify);
  drains.set(app, drain);
}

/** For main.ts on SIGTERM: see HttpDrain. */
export function drainHttp(app: NestFastifyApplication, timeoutMs: number): Promise<boolean> {
  const drain = drains.get(app);
  if (!drain) return Promise.resolve(true);
  // Event streams never end by themselves: close them first, or the drain would wait out its budget.
  app.get(EventStreams, { strict: false }).closeAll();
  return drain.drain(app.getHttpServer(), timeoutMs);
}
