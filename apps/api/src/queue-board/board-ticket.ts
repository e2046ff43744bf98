import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { readCookie } from '../common/cookies';

export const BOARD_PATH = '/admin/queues';
export const BOARD_COOKIE = 'queue_board';
/** Seconds a board ticket stays valid. */
export const BOARD_TICKET_TTL = 15 * 60;

/** Who a genuine, unexpired ticket was issued to, and from which session. */
export interface BoardTicketHolder {
  userId: string;
  sessionId: string;
}

/**
 * The queue dashboard is a browser page: it cannot send a bearer token, so a platform admin
 * exchanges theirs for a short ticket in an HttpOnly, SameSite=Strict cookie scoped to the board's
 * path. The ticket is `userId.sessionId.expiresAt.mac`, signed with a key derived from the JWT
 * secret; it names the session it came from, so it dies with that session (checked per request).
 */
export class BoardTickets {
  private readonly key: Buffer;

  constructor(jwtSecret: string) {
    this.key = Buffer.from(hkdfSync('sha256', jwtSecret, 'queue-board', 'board-ticket', 32));
  }

  issue(holder: BoardTicketHolder, now = Date.now()): { value: string; expiresAt: Date } {
    const expires = Math.floor(now / 1000) + BOARD_TICKET_TTL;
    const body = `${holder.userId}.${holder.sessionId}.${expires}`;
    return { value: `${body}.${this.mac(body)}`, expiresAt: new Date(expires * 1000) };
  }

  /** Who the ticket was issued to, if it is genuine and unexpired (the session is the caller's to check). */
  verify(value: string | undefined, now = Date.now()): BoardTicketHolder | undefined {
    const parts = value?.split('.');
    if (parts?.length !== 4) return undefined;
    const [userId = '', sessionId = '', expires = '', mac = ''] = parts;
    const expected = Buffer.from(this.mac(`${userId}.${sessionId}.${expires}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (!/^\d+$/.test(expires) || Number(expires) * 1000 <= now) return undefined;
    return { userId, sessionId };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

/** The ticket from a Cookie header. */
export function boardCookie(header: string | undefined): string | undefined {
  return readCookie(header, BOARD_COOKIE);
}
