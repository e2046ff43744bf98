import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** What one request to the receiver was, and whether the reference verifier accepted it. */
export interface ReceivedAttempt {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Which of the receiver's secrets verified it (standardwebhooks' Webhook.verify); none: []. */
  verifiedBy: string[];
  answered: number | 'redirect' | 'huge' | 'hang';
}

export type ReceiverBehaviour = 'ok' | 'fail' | 'redirect' | 'huge' | 'hang';

/**
 * A webhook receiver on loopback, as a customer would run one: every request is checked with the
 * `standardwebhooks` package (the specification's reference verifier) against the secrets it was
 * given, recorded, and answered as told per path: 200, 500, a redirect to the metadata address,
 * an endless body, or no answer at all. `failTimes(path, n)` answers 500 n times, then 200.
 */
export class WebhookReceiver {
  readonly attempts: ReceivedAttempt[] = [];
  private readonly behaviours = new Map<string, ReceiverBehaviour>();
  private readonly failures = new Map<string, number>();
  private readonly secrets = new Set<string>();
  private readonly hanging = new Set<ServerResponse>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookReceiver> {
    const holder: { receiver?: WebhookReceiver } = {};
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () =>
        holder.receiver?.answer(request.url ?? '/', request.headers, Buffer.concat(chunks), response),
      );
    });
    const receiver = new WebhookReceiver(server);
    holder.receiver = receiver;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  trust(secret: string): void {
    this.secrets.add(secret);
  }

  behave(path: string, behaviour: ReceiverBehaviour): void {
    this.behaviours.set(path, behaviour);
  }

  failTimes(path: string, times: number): void {
    this.failures.set(path, times);
  }

  at(path: string): ReceivedAttempt[] {
    return this.attempts.filter((attempt) => attempt.path === path);
  }

  async close(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(path: string, headers: IncomingHttpHeaders, raw: Buffer, response: ServerResponse): void {
    const body = raw.toString('utf8');
    const verifiedBy = [...this.secrets].filter((secret) => {
      try {
        new Webhook(secret).verify(body, {
          'webhook-id': String(headers['webhook-id'] ?? ''),
          'webhook-timestamp': String(headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(headers['webhook-signature'] ?? ''),
        });
        return true;
      } catch {
        return false;
      }
    });
    const failuresLeft = this.failures.get(path) ?? 0;
    let behaviour = this.behaviours.get(path) ?? 'ok';
    if (failuresLeft > 0) {
      this.failures.set(path, failuresLeft - 1);
      behaviour = 'fail';
    }
    const record = (answered: ReceivedAttempt['answered']) =>
      this.attempts.push({ path, headers, body, verifiedBy, answered });
    switch (behaviour) {
      case 'ok':
        record(200);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
        return;
      case 'fail':
        record(500);
        response.writeHead(500, { 'content-type': 'text/plain' }).end('receiver is down for maintenance');
        return;
      case 'redirect':
        record('redirect');
        response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        return;
      case 'huge': {
        record('huge');
        // An endless answer: 64 KiB chunks until the client hangs up.
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 120);
        const pump = () => {
          while (!response.destroyed && response.write(chunk));
          if (!response.destroyed) response.once('drain', pump);
        };
        response.on('close', () => response.removeAllListeners('drain'));
        pump();
        return;
      }
      case 'hang':
        record('hang');
        this.hanging.add(response);
        return;
    }
  }
}
