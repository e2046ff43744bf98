import type { ClsService } from 'nestjs-cls';
import { isIP } from 'node:net';

export const REQUEST_IP_KEY = 'request.ip';
export const REQUEST_USER_AGENT_KEY = 'request.userAgent';

/**
 * Stores the caller's address and user agent in the request's CLS context. `ip` is the address
 * the HTTP layer resolved: under TRUST_PROXY, taken from X-Forwarded-For, so whatever a client
 * wrote there when the setting trusts more hops than there are proxies. Only a well-formed IP
 * address is kept (anything else is stored as unknown, never failing the write of an audit row).
 */
export function captureRequestContext(cls: ClsService, ip: string | undefined, userAgent: unknown): void {
  cls.set(REQUEST_IP_KEY, ip && isIP(ip) ? ip : null);
  cls.set(REQUEST_USER_AGENT_KEY, typeof userAgent === 'string' ? userAgent.slice(0, 512) : null);
}
