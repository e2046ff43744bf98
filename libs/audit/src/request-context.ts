import type { IncomingMessage } from 'node:http';
import type { ClsService } from 'nestjs-cls';

export const REQUEST_IP_KEY = 'request.ip';
export const REQUEST_USER_AGENT_KEY = 'request.userAgent';

/** Stores the caller's address and user agent in the request's CLS context (ClsModule setup hook). */
export function captureRequestContext(cls: ClsService, request: IncomingMessage): void {
  cls.set(REQUEST_IP_KEY, request.socket?.remoteAddress ?? null);
  const agent = request.headers['user-agent'];
  cls.set(REQUEST_USER_AGENT_KEY, typeof agent === 'string' ? agent.slice(0, 512) : null);
}
