import { REQUEST_IP_KEY, REQUEST_USER_AGENT_KEY } from '@app/audit';
import type { ClsService } from 'nestjs-cls';

/** The caller's address and user agent, as captured for this request. */
export function requestOrigin(cls: ClsService): { ip: string | null; userAgent: string | null } {
  if (!cls.isActive()) return { ip: null, userAgent: null };
  return {
    ip: cls.get<string | null>(REQUEST_IP_KEY) ?? null,
    userAgent: cls.get<string | null>(REQUEST_USER_AGENT_KEY) ?? null,
  };
}
