import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export const BOARD_PATH = '/admin/queues';
export const BOARD_COOKIE = 'queue_board';
/** Seconds a board ticket stays valid. */
export const BOARD_TICKET_TTL = 15 * 60;

/**
 * The queue dashboard is a browser page: it cannot send a bearer token, so a platform admin
 * exchanges theirs for a short ticket in an HttpOnly, SameSite=Strict cookie scoped to the board's
 * path. The ticket is `userId.expiresAt.mac`, signed with a key derived from the JWT secret.
 */
export class BoardTickets {
  private readonly key: Buffer;

  constructor(jwtSecret: string) {
    this.key = Buffer.from(hkdfSync('sha256', jwtSecret, 'queue-board', 'board-ticket', 32));
  }

  issue(userId: string, now = Date.now()): { value: string; expiresAt: Date } {
    const expires = Math.floor(now / 1000) + BOARD_TICKET_TTL;
    const body = `${userId}.${expires}`;
    return { value: `${body}.${this.mac(body)}`, expiresAt: new Date(expires * 1000) };
  }

  /** The user a ticket was issued to, if it is genuine and unexpired. */
  verify(value: string | undefined, now = Date.now()): string | undefined {
    const parts = value?.split('.');
    if (parts?.length !== 3) return undefined;
    const [userId = '', expires = '', mac = ''] = parts;
    const expected = Buffer.from(this.mac(`${userId}.${expires}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (!/^\d+$/.test(expires) || Number(expires) * 1000 <= now) return undefined;
    return userId;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

/** The ticket from a Cookie header. */
export function boardCookie(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === BOARD_COOKIE) return value.join('=');
  }
  return undefined;
}
