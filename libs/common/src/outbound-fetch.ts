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
  ['::', 128],
  ['::1', 128],
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
  /** Refuse plain http (production). */
  httpsOnly?: boolean;
  timeoutMs?: number;
  maxBytes?: number;
}

/**
 * GET for a URL someone else chose (IdP metadata, later webhooks): http(s) only, the address
 * checked after DNS resolution and pinned for the connection (so DNS rebinding cannot swap it),
 * no redirects followed, bounded in time and size. Throws OutboundRefused.
 */
export async function fetchOutbound(url: string, options: OutboundFetchOptions = {}): Promise<string> {
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
  const allowPrivate = options.allowPrivate ?? false;
  const host = target.hostname.replace(/^\[|\]$/g, '');
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
  return new Promise<string>((resolve, reject) => {
    const request = (secure ? httpsRequest : httpRequest)(
      target,
      { method: 'GET', lookup, timeout: timeoutMs, headers: { accept: 'application/xml, text/xml, */*;q=0.1' } },
      (response: IncomingMessage) => {
        const status = response.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          response.resume();
          reject(new OutboundRefused('redirect', `redirected (${status}); give the final URL`));
          return;
        }
        if (status !== 200) {
          response.resume();
          reject(new OutboundRefused('http-status', `answered ${status}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            request.destroy();
            reject(new OutboundRefused('too-large', `larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        response.on('error', (error) => reject(new OutboundRefused('unreachable', error.message)));
      },
    );
    request.on('timeout', () => {
      request.destroy();
      reject(new OutboundRefused('timeout', `no answer within ${timeoutMs} ms`));
    });
    request.on('error', (error) => {
      reject(error instanceof OutboundRefused ? error : new OutboundRefused('unreachable', error.message));
    });
    request.end();
  });
}
