import type { ClsService } from 'nestjs-cls';

export const REQUEST_IP_KEY = 'request.ip';
export const REQUEST_USER_AGENT_KEY = 'request.userAgent';

/**
 * Stores the caller's address and user agent in the request's CLS context. `ip` is the address
 * the HTTP layer resolved (under TRUST_PROXY, the client's, not the proxy's).
 */
export function captureRequestContext(cls: ClsService, ip: string | undefined, userAgent: unknown): void {
  cls.set(REQUEST_IP_KEY, ip ?? null);
  cls.set(REQUEST_USER_AGENT_KEY, typeof userAgent === 'string' ? userAgent.slice(0, 512) : null);
}
