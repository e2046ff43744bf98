import { bearer, createTestApp, joinByInvitation, registerAndLogin, type TestApp } from '@app/testing';
import { EventSource } from 'eventsource';
import type { AddressInfo } from 'node:net';

/**
 * Two api replicas sharing PostgreSQL and Redis: a change made through replica A reaches a stream
 * held by replica B (Redis pub/sub), and a member removed through A loses their stream on B.
 */
describe('realtime events across replicas', () => {
  let a: TestApp;
  let b: TestApp;
  let baseB: string;
  const sources: EventSource[] = [];

  beforeAll(async () => {
    a = await createTestApp({ redis: true, env: { EVENTS_HEARTBEAT: '1' } });
    b = await createTestApp({ redis: true, replicaOf: a, env: { EVENTS_HEARTBEAT: '1' } });
    await b.app.listen(0, '127.0.0.1');
    baseB = `http://127.0.0.1:${(b.app.getHttpServer().address() as AddressInfo).port}/api/v1`;
  });
  afterAll(async () => {
    for (const source of sources) source.close();
    await b?.close();
    await a?.close();
  });

  async function until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('fans out through Redis, and closes on B when A removes the member', async () => {
    const owner = await registerAndLogin(a, 'replica-stream-owner');
    const call = (method: 'POST' | 'DELETE', url: string, payload?: object) =>
      a.inject({ method, url: `/api/v1${url}`, headers: bearer(owner.tokens.access_token), payload });
    const orgId = (await call('POST', '/organizations', { name: 'Replicated streams' })).json<{ id: string }>().id;
    const member = await registerAndLogin(a, 'replica-stream-member');
    await joinByInvitation(a, owner, orgId, member);

    const types: string[] = [];
    const closed: string[] = [];
    let opened!: () => void;
    const ready = new Promise<void>((resolve) => (opened = resolve));
    const source = new EventSource(`${baseB}/organizations/${orgId}/events/stream`, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: {
            ...(init?.headers as Record<string, string>),
            authorization: `Bearer ${member.tokens.access_token}`,
          },
        }),
    });
    sources.push(source);
    source.onopen = () => opened();
    source.addEventListener('team.created', () => types.push('team.created'));
    source.addEventListener('closed', (event: MessageEvent<string>) => {
      closed.push((JSON.parse(event.data) as { reason: string }).reason);
      source.close();
    });
    await ready;

    // The change goes through replica A; the stream is held by B.
    expect((await call('POST', `/organizations/${orgId}/teams`, { name: 'Across' })).statusCode).toBe(201);
    await until(() => types.length === 1, 'team.created on B');
    expect((await call('DELETE', `/organizations/${orgId}/members/${member.userId}`)).statusCode).toBe(204);
    await until(() => closed.length === 1, 'the stream on B to close');
    expect(closed).toEqual(['membership-ended']);
  });
});
