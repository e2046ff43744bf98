import { safeEqual } from '@app/auth';
import { Metrics, routeUrlOf } from '@app/common';
import type { AppConfig } from '@app/config';
import { nameServerSpan, tracingEnabled } from '@app/telemetry';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServer, type Server } from 'node:http';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';

/**
 * HTTP metrics for every route (duration by route pattern and status, requests in flight), the
 * database pool, and GET /metrics on the main port when METRICS_TOKEN is set (bearer token,
 * compared in constant time; outside the api's rate limits and OpenAPI document).
 */
export function instrument(app: NestFastifyApplication, config: AppConfig): void {
  const metrics = app.get(Metrics);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, _reply, done) => {
    metrics.httpInFlight.inc();
    // Read here without keeping it (routeUrlOf): the Nest adapter may still send the request to the
    // 404 handler (an empty route parameter), which changes the route it matched.
    if (tracingEnabled()) nameServerSpan(request.method, request.routeOptions.url, request.ip);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.httpInFlight.dec();
    metrics.httpDuration.observe(
      { method: request.method, route: routeUrlOf(request) ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  const pool = (app.get(DataSource).driver as unknown as { master?: Pool }).master;
  if (pool) {
    metrics.gauge('db_pool_connections', 'Database pool connections by state.', ['state'], () => [
      [{ state: 'total' }, pool.totalCount],
      [{ state: 'idle' }, pool.idleCount],
      [{ state: 'waiting' }, pool.waitingCount],
    ]);
  }
  const token = config.metrics.token;
  if (token) {
    fastify.get('/metrics', async (request, reply) => {
      const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (!presented || !safeEqual(presented, token)) {
        return reply.code(401).header('www-authenticate', 'Bearer').type('text/plain').send('metrics need the token\n');
      }
      return reply.type(metrics.contentType).send(await metrics.render());
    });
  }
}

/** METRICS_PORT: the metrics alone, without a token, on their own port (for in-cluster scraping). */
export function startMetricsServer(metrics: Metrics, port: number, host: string): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    metrics.render().then(
      (body) => response.writeHead(200, { 'content-type': metrics.contentType }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}
