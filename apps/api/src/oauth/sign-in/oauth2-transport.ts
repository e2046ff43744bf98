import type * as http from 'node:http';

/** The part of node-oauth's OAuth2 client (used by passport-oauth2) that this replaces. */
interface OAuth2Client {
  _executeRequest(
    library: typeof http,
    options: http.RequestOptions,
    body: string | Buffer | null | undefined,
    callback: (error: unknown, result?: string, response?: http.IncomingMessage) => void,
  ): void;
}

export interface TransportLimits {
  timeoutMs: number;
  maxBytes: number;
}

/** A provider that did not answer in time or sent too much: treated as unreachable. */
export class ProviderTransportError extends Error {
  constructor(
    message: string,
    readonly code: 'ETIMEDOUT' | 'ETOOLARGE' | 'EBADJSON',
  ) {
    super(message);
  }
}

/**
 * passport-oauth2 talks to providers through node-oauth 0.10, which sets no timeout, buffers any
 * response whole, and lets a provider's non-JSON answer reach a `JSON.parse` in a callback
 * (passport-github2's email lookup), where a throw would end the process. This replaces its one
 * request function on a strategy's client: bounded in time and size, one callback, and a GET
 * (an API call, always JSON) whose body is not JSON is an error, not a crash.
 */
export function hardenOAuth2Transport(strategy: unknown, limits: TransportLimits): void {
  const client = (strategy as { _oauth2?: OAuth2Client })._oauth2;
  if (!client || typeof client._executeRequest !== 'function') {
    throw new Error('not a passport-oauth2 strategy: no OAuth2 client to harden');
  }
  client._executeRequest = (library, options, body, callback) => {
    let done = false;
    const finish = (error: unknown, result?: string, response?: http.IncomingMessage): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      callback(error, result, response);
    };
    const request = library.request(options);
    // One deadline for the whole exchange (a socket idle timeout would let a slow trickle through).
    const deadline = setTimeout(() => {
      finish(new ProviderTransportError('the provider did not answer in time', 'ETIMEDOUT'));
      request.destroy();
    }, limits.timeoutMs);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (done) return;
        size += chunk.length;
        if (size > limits.maxBytes) {
          finish(new ProviderTransportError('the provider answered with too much data', 'ETOOLARGE'));
          response.destroy();
          request.destroy();
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', (error) => finish(error));
      response.on('end', () => {
        if (done) return;
        const result = Buffer.concat(chunks).toString('utf8');
        const status = response.statusCode ?? 0;
        // node-oauth's contract: 2xx (and its redirect codes) succeed, anything else is { statusCode, data }.
        if (!((status >= 200 && status <= 299) || status === 301 || status === 302)) {
          finish({ statusCode: status, data: result });
          return;
        }
        if (options.method === 'GET' && !isJson(result)) {
          finish(new ProviderTransportError('the provider answered an API call without JSON', 'EBADJSON'));
          return;
        }
        finish(null, result, response);
      });
    });
    request.on('error', (error) => finish(error));
    if ((options.method === 'POST' || options.method === 'PUT') && body) request.write(body);
    request.end();
  };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
