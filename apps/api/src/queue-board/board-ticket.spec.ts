import { boardCookie, BOARD_TICKET_TTL, BoardTickets } from './board-ticket';

describe('queue board tickets', () => {
  const tickets = new BoardTickets('a-jwt-secret-that-is-long-enough-000000');
  const user = '0195d2a0-7b1c-7c3e-8a4b-1234567890ab';
  const session = '0195d2a0-7b1c-7c3e-8a4b-5555555555ab';
  const holder = { userId: user, sessionId: session };

  it('name the user and session they were issued to until they expire', () => {
    const now = Date.now();
    const { value, expiresAt } = tickets.issue(holder, now);
    expect(tickets.verify(value, now)).toEqual(holder);
    expect(expiresAt.getTime()).toBe((Math.floor(now / 1000) + BOARD_TICKET_TTL) * 1000);
    expect(tickets.verify(value, expiresAt.getTime())).toBeUndefined();
  });

  it('refuse anything changed, forged with another secret, or malformed', () => {
    const { value } = tickets.issue(holder);
    const [id, sid, expires, mac] = value.split('.');
    expect(tickets.verify(`${id}.${sid}.${Number(expires) + 3600}.${mac}`)).toBeUndefined();
    expect(tickets.verify(`0195d2a0-7b1c-7c3e-8a4b-000000000000.${sid}.${expires}.${mac}`)).toBeUndefined();
    // Another session of the same user: not this ticket.
    expect(tickets.verify(`${id}.0195d2a0-7b1c-7c3e-8a4b-000000000000.${expires}.${mac}`)).toBeUndefined();
    expect(
      tickets.verify(new BoardTickets('another-secret-that-is-long-enough-0000').issue(holder).value),
    ).toBeUndefined();
    for (const bad of [undefined, '', 'x', `${id}.${sid}.${expires}`, `${value}.extra`, `${id}.${sid}.soon.${mac}`]) {
      expect(tickets.verify(bad)).toBeUndefined();
    }
  });

  it('are read from the Cookie header by name', () => {
    expect(boardCookie('a=1; queue_board=u.1.m=; b=2')).toBe('u.1.m=');
    expect(boardCookie('queue_boardx=1')).toBeUndefined();
    expect(boardCookie(undefined)).toBeUndefined();
  });
});
