import { CLS_ID, type ClsService, type ClsStore } from 'nestjs-cls';
import { isIP } from 'node:net';

/** Request context keys. A symbol: nestjs-cls reads a string key as a dotted path (split and walked on every get and set); a symbol is one property lookup. */
export const REQUEST_IP_KEY = Symbol('request.ip');
export const REQUEST_USER_AGENT_KEY = Symbol('request.userAgent');

/**
 * Stores the caller's address and user agent in the request's CLS context. `ip` is the address
 * the HTTP layer resolved: under TRUST_PROXY, taken from X-Forwarded-For, so whatever a client
 * wrote there when the setting trusts more hops than there are proxies. Only a well-formed IP
 * address is kept (anything else is stored as unknown, never failing the write of an audit row).
 */
export function captureRequestContext(cls: ClsService, ip: string | undefined, userAgent: unknown): void {
  cls.set(REQUEST_IP_KEY, wellFormedIp(ip));
  cls.set(REQUEST_USER_AGENT_KEY, userAgentOf(userAgent));
}

/**
 * A request's context store, made whole at once (one object of one shape, instead of an empty
 * store filled key by key): the request id, and the caller's address and user agent as
 * captureRequestContext keeps them.
 */
export function requestContextStore(requestId: string, ip: string | undefined, userAgent: unknown): ClsStore {
  return { [CLS_ID]: requestId, [REQUEST_IP_KEY]: wellFormedIp(ip), [REQUEST_USER_AGENT_KEY]: userAgentOf(userAgent) };
}

function wellFormedIp(ip: string | undefined): string | null {
  return ip && isIP(ip) ? ip : null;
}

function userAgentOf(userAgent: unknown): string | null {
  return typeof userAgent === 'string' ? userAgent.slice(0, 512) : null;
}
