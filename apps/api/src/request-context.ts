import { requestContextStore } from '@app/audit';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { ClsService } from 'nestjs-cls';

/**
 * Opens each request's CLS context (request id, caller address, user agent) in a Fastify hook,
 * ahead of everything Nest runs for the request.
 *
 * - The address is `request.ip`, as Fastify resolved it under TRUST_PROXY, so audit rows and
 *   sessions name the client behind a proxy, not the proxy.
 * - No Nest middleware (so no @fastify/middie pass and no chain of awaited setup steps) on the
 *   hot path.
 * - A body that arrives in several packets is read on the socket's async context; Fastify's body
 *   parser hands the result back in the request's context, so the handler still sees this one
 *   (tested over a real socket in http-security.e2e-spec).
 */
export function openRequestContext(app: NestFastifyApplication, fastify: FastifyInstance): void {
  const cls = app.get(ClsService);
  fastify.addHook('onRequest', (request, _reply, done) => {
    // A fresh store for every request, even if the hook ever runs inside another context.
    cls.runWith(requestContextStore(request.id, request.ip, request.headers['user-agent']), () => done());
  });
}
