import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Where a server-side request must never go unless the operator says so: this host's own networks. */
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  // Unspecified, loopback and the deprecated IPv4-compatible form (::127.0.0.1 is ::7f00:1).
  ['::', 96],
  ['::1', 128],
  // NAT64 (well-known and local-use prefixes): 64:ff9b::7f00:1 is 127.0.0.1 behind a gateway.
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  // IPv4-translated (SIIT), Teredo and 6to4 carry an IPv4 address that may be a private one.
  ['::ffff:0:0:0', 96],
  ['2001::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6');
}

/** True for loopback, private, link-local (cloud metadata), CGNAT, multicast and reserved addresses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family !== 6) return true;
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is checked as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  return mapped ? PRIVATE.check(mapped, 'ipv4') : PRIVATE.check(address, 'ipv6');
}

/**
 * Whether `host:port` is on an operator's allow-list of private targets. IPv6 hosts are written in
 * brackets there, as in a URL: `[::1]:8080`.
 */
export function isAllowedTarget(allowed: readonly string[] | undefined, host: string, port: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  const target = `${bare.includes(':') ? `[${bare}]` : bare}:${port}`;
  return (allowed ?? []).some((entry) => entry.trim().toLowerCase() === target);
}

export class OutboundRefused extends Error {
  constructor(
    readonly reason:
      'bad-url' | 'private-address' | 'unreachable' | 'timeout' | 'too-large' | 'http-status' | 'redirect',
    message: string,
  ) {
    super(message);
    this.name = 'OutboundRefused';
  }
}

export interface OutboundFetchOptions {
  /** Let private and loopback addresses through (a development setting; off by default). */
  allowPrivate?: boolean;
  /**
   * `host:port` targets that may be private even when allowPrivate is off (an operator's explicit
   * allow-list, e.g. a receiver on loopback in tests). Compared with the URL's host and port.
   */
  allowedPrivateTargets?: readonly string[];
  /** Refuse plain http (production). */
  httpsOnly?: boolean;
  timeoutMs?: number;
  maxBytes?: number;
}

/** What came back from an outbound request: nothing is followed, nothing is interpreted. */
export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/**
 * A request to a URL someone else chose (IdP metadata, an organization's OpenID issuer, later
 * webhooks): http(s) only, no credentials in the URL, the address checked after DNS resolution and
 * pinned for the connection (so DNS rebinding cannot swap it), no redirects followed (a 3xx comes
 * back as it is), one deadline for the whole exchange, the body bounded. Throws OutboundRefused.
 */
export async function requestOutbound(
  url: string,
  init: OutboundRequest = {},
  options: OutboundFetchOptions = {},
): Promise<OutboundResponse> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new OutboundRefused('bad-url', 'not a URL');
  }
  const secure = target.protocol === 'https:';
  if (!secure && (target.protocol !== 'http:' || options.httpsOnly)) {
    throw new OutboundRefused(
      'bad-url',
      options.httpsOnly ? 'only https URLs are fetched' : 'only http(s) URLs are fetched',
    );
  }
  if (target.username || target.password) throw new OutboundRefused('bad-url', 'URLs with credentials are not fetched');
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = target.port || (secure ? '443' : '80');
  const allowPrivate = (options.allowPrivate ?? false) || isAllowedTarget(options.allowedPrivateTargets, host, port);
  if (isIP(host) && !allowPrivate && isPrivateAddress(host)) {
    throw new OutboundRefused('private-address', `${host} is a private address`);
  }
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = allowPrivate ? undefined : addresses.find((entry) => isPrivateAddress(entry.address));
      if (refused || addresses.length === 0) {
        const reason = refused ? `${hostname} resolves to a private address (${refused.address})` : 'no address';
        return callback(Object.assign(new OutboundRefused('private-address', reason), { code: 'ESSRF' }), '', 0);
      }
      if (lookupOptions.all) return callback(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  return new Promise<OutboundResponse>((resolve, reject) => {
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      done();
    };
    const request = (secure ? httpsRequest : httpRequest)(
      target,
      { method: init.method ?? 'GET', lookup, headers: init.headers ?? {} },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            settle(() => reject(new OutboundRefused('too-large', `larger than ${maxBytes} bytes`)));
            request.destroy();
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () =>
          settle(() =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
          ),
        );
        response.on('error', (error) => settle(() => reject(new OutboundRefused('unreachable', error.message))));
      },
    );
    // One deadline for everything, so a slow trickle cannot hold a request open.
    const deadline = setTimeout(() => {
      settle(() => reject(new OutboundRefused('timeout', `no answer within ${timeoutMs} ms`)));
      request.destroy();
    }, timeoutMs);
    request.on('error', (error) => {
      settle(() =>
        reject(error instanceof OutboundRefused ? error : new OutboundRefused('unreachable', error.message)),
      );
    });
    if (init.body !== undefined) request.write(init.body);
    request.end();
  });
}

/**
 * GET for a document at a URL someone else chose (IdP metadata): `requestOutbound`, and only a
 * 200 counts (a redirect is refused: give the final URL). Throws OutboundRefused.
 */
export async function fetchOutbound(url: string, options: OutboundFetchOptions = {}): Promise<string> {
  const response = await requestOutbound(url, { headers: { accept: 'application/xml, text/xml, */*;q=0.1' } }, options);
  if (response.status >= 300 && response.status < 400) {
    throw new OutboundRefused('redirect', `redirected (${response.status}); give the final URL`);
  }
  if (response.status !== 200) throw new OutboundRefused('http-status', `answered ${response.status}`);
  return response.body.toString('utf8');
}

/**
 * A `fetch` for libraries that take one (openid-client's customFetch) whose every request goes
 * through `requestOutbound`: same address checks, no redirects followed, bounded.
 */
export function guardedFetch(
  options: OutboundFetchOptions,
): (url: string, init: { method?: string; headers?: HeadersInit; body?: unknown }) => Promise<Response> {
  return async (url, init) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => (headers[key] = value));
    const body =
      init.body === undefined || init.body === null
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : init.body instanceof URLSearchParams
            ? init.body.toString()
            : Buffer.isBuffer(init.body)
              ? init.body
              : undefined;
    if (init.body !== undefined && init.body !== null && body === undefined) {
      throw new OutboundRefused('bad-url', 'unsupported request body');
    }
    const response = await requestOutbound(
      url,
      { method: init.method ?? 'GET', headers, ...(body !== undefined ? { body } : {}) },
      options,
    );
    const responseHeaders = new Headers();
    for (const [key, value] of Object.entries(response.headers)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(key, item);
    }
    const empty =
      response.status === 204 || response.status === 304 || (response.status >= 100 && response.status < 200);
    return new Response(empty ? null : new Uint8Array(response.body), {
      status: response.status,
      headers: responseHeaders,
    });
  };
}
