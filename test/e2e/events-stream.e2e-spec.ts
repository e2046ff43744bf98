import { SYSTEM_ROLES } from '@app/rbac';
import { bearer, createTestApp, joinByInvitation, registerAndLogin, type TestApp } from '@app/testing';
import { EventSource } from 'eventsource';
import type { AddressInfo } from 'node:net';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
interface Received {
  id: string;
  type: string;
  body: { type: string; timestamp: string; data: Record<string, unknown> };
}

const TYPES = ['team.created', 'team.updated', 'team.deleted', 'api_key.created', 'member.added', 'member.removed'];

/**
 * The realtime stream read by a real SSE client (the `eventsource` package) over a real socket:
 * what each role sees, Last-Event-ID resumes, and a stream ending with the session or membership.
 */
describe('realtime events (SSE)', () => {
  let t: TestApp;
  let base: string;
  let owner: Account;
  let orgId: string;
  const open: EventSource[] = [];

  beforeAll(async () => {
    t = await createTestApp({ env: { EVENTS_HEARTBEAT: '1', EVENTS_MAX_STREAMS_PER_USER: '3' } });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}/api/v1`;
    owner = await registerAndLogin(t, 'stream-owner');
    orgId = (await call(owner, 'POST', '/organizations', { name: 'Streams' })).json<{ id: string }>().id;
  });
  afterEach(() => {
    for (const source of open.splice(0)) source.close();
  });
  afterAll(async () => {
    await t?.close();
  });

  function call(as: Account, method: Method, url: string, payload?: object) {
    return t.inject({ method, url: `/api/v1${url}`, headers: bearer(as.tokens.access_token), payload });
  }

  /** A stream as a browser app would read it (fetch with the bearer token), collecting what arrives. */
  function subscribe(as: Account, options: { lastEventId?: string; org?: string } = {}) {
    const received: Received[] = [];
    const closed: string[] = [];
    const errors: Array<{ status?: number }> = [];
    let opened!: () => void;
    const ready = new Promise<void>((resolve) => (opened = resolve));
    const source = new EventSource(`${base}/organizations/${options.org ?? orgId}/events/stream`, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: {
            ...(init?.headers as Record<string, string>),
            authorization: `Bearer ${as.tokens.access_token}`,
            ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}),
          },
        }),
    });
    open.push(source);
    source.onopen = () => opened();
    source.onerror = (error) => {
      errors.push({ status: (error as { code?: number }).code });
    };
    for (const type of [...TYPES, 'resync']) {
      source.addEventListener(type, (event: MessageEvent<string>) => {
        received.push({ id: event.lastEventId, type, body: JSON.parse(event.data) as Received['body'] });
      });
    }
    source.addEventListener('closed', (event: MessageEvent<string>) => {
      closed.push((JSON.parse(event.data) as { reason: string }).reason);
      source.close();
    });
    return { source, received, closed, errors, ready };
  }

  async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('delivers the organization’s events to its members, each what their permissions allow', async () => {
    const viewer = await registerAndLogin(t, 'stream-viewer');
    await joinByInvitation(t, owner, orgId, viewer, [SYSTEM_ROLES.viewer.id]);
    const asOwner = subscribe(owner);
    const asViewer = subscribe(viewer);
    await Promise.all([asOwner.ready, asViewer.ready]);

    const team = (await call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'Live' })).json<{ id: string }>();
    await call(owner, 'PUT', `/organizations/${orgId}/teams/${team.id}`, { name: 'Live ops' });
    const key = await call(owner, 'POST', `/organizations/${orgId}/api-keys`, {
      name: 'robot',
      permissions: ['teams:read'],
    });
    expect(key.statusCode).toBe(201);
    await until(() => asOwner.received.length >= 3, 'the owner’s three events');
    expect(asOwner.received.map((event) => event.type)).toEqual(['team.created', 'team.updated', 'api_key.created']);
    expect(asOwner.received[1]?.body).toEqual({
      type: 'team.updated',
      timestamp: expect.any(String) as unknown,
      data: { id: team.id, organizationId: orgId, actor: { type: 'user', id: owner.userId }, fields: ['name'] },
    });
    // A viewer sees teams, not API keys (api-keys:read).
    await until(() => asViewer.received.length >= 2, 'the viewer’s two events');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(asViewer.received.map((event) => event.type)).toEqual(['team.created', 'team.updated']);
    // Nothing of another organization.
    const other = (await call(owner, 'POST', '/organizations', { name: 'Elsewhere' })).json<{ id: string }>().id;
    await call(owner, 'POST', `/organizations/${other}/teams`, { name: 'Not here' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(asViewer.received).toHaveLength(2);
  });

  it('resumes from Last-Event-ID, and says resync when the gap is older than the buffer', async () => {
    const first = subscribe(owner);
    await first.ready;
    const team = (await call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'Resume' })).json<{
      id: string;
    }>();
    await until(() => first.received.length >= 1, 'the first event');
    const lastSeen = first.received[0]!.id;
    first.source.close();
    // Missed while away:
    await call(owner, 'PUT', `/organizations/${orgId}/teams/${team.id}`, { name: 'Resumed' });
    await call(owner, 'DELETE', `/organizations/${orgId}/teams/${team.id}`);
    const again = subscribe(owner, { lastEventId: lastSeen });
    await until(() => again.received.length >= 2, 'the two missed events');
    expect(again.received.map((event) => event.type)).toEqual(['team.updated', 'team.deleted']);
    // An id from before anything kept: read the state again.
    const stale = subscribe(owner, { lastEventId: '00000000-0000-7000-8000-000000000000' });
    await until(() => stale.received.length >= 1, 'resync');
    expect(stale.received[0]?.type).toBe('resync');
  });

  it('ends the stream when the member is removed, and when the session ends', async () => {
    const leaver = await registerAndLogin(t, 'stream-leaver');
    await joinByInvitation(t, owner, orgId, leaver);
    const stream = subscribe(leaver);
    await stream.ready;
    expect((await call(owner, 'DELETE', `/organizations/${orgId}/members/${leaver.userId}`)).statusCode).toBe(204);
    await until(() => stream.closed.length > 0, 'the stream to close');
    expect(stream.closed).toEqual(['membership-ended']);

    const stayer = await registerAndLogin(t, 'stream-stayer');
    await joinByInvitation(t, owner, orgId, stayer);
    const second = subscribe(stayer);
    await second.ready;
    expect(
      (
        await t.inject({
          method: 'POST',
          url: '/api/v1/auth/logout',
          headers: bearer(stayer.tokens.access_token),
          payload: {},
        })
      ).statusCode,
    ).toBeLessThan(300);
    await until(() => second.closed.length > 0, 'the stream to close on logout');
    expect(second.closed).toEqual(['session-ended']);
  });

  it('refuses outsiders, API keys and too many streams', async () => {
    const stranger = await registerAndLogin(t, 'stream-stranger');
    const raw = (token: string | undefined, org = orgId) =>
      fetch(`${base}/organizations/${org}/events/stream`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    expect((await raw(undefined)).status).toBe(401);
    expect((await raw(stranger.tokens.access_token)).status).toBe(404);
    const key = (
      await call(owner, 'POST', `/organizations/${orgId}/api-keys`, {
        name: 'reader',
        permissions: ['organizations:read'],
      })
    ).json<{ key: string }>().key;
    const byKey = await raw(key);
    expect(byKey.status).toBe(403);
    expect(byKey.headers.get('content-type')).toContain('application/problem+json');
    // Three streams per person here (EVENTS_MAX_STREAMS_PER_USER); a fourth is 429.
    const held = [subscribe(owner), subscribe(owner), subscribe(owner)];
    await Promise.all(held.map((stream) => stream.ready));
    const fourth = await raw(owner.tokens.access_token);
    expect(fourth.status).toBe(429);
    await fourth.body?.cancel();
  });
});
