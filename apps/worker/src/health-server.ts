import type { Metrics } from '@app/common';
import type { BullMqWorkerHost } from '@app/queue';
import { createServer, type Server } from 'node:http';

/**
 * WORKER_HEALTH_PORT: the worker has no HTTP api, so Kubernetes probes and Prometheus get a small
 * listener of their own. GET /health: 200 while every queue's worker runs and its Redis connection
 * is ready, 503 otherwise (with which one is not). GET /metrics: the worker's Prometheus metrics.
 */
export function startWorkerHealthServer(
  host: BullMqWorkerHost,
  metrics: Metrics,
  port: number,
  address: string,
): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
    } else if (path === '/health') {
      const status = host.status();
      response
        .writeHead(status.healthy ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify({ status: status.healthy ? 'ok' : 'unavailable', queues: status.queues }));
    } else if (path === '/metrics') {
      metrics.render().then(
        (body) => response.writeHead(200, { 'content-type': metrics.contentType }).end(body),
        () => response.writeHead(500).end(),
      );
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve(server));
  });
}
