import { newId } from '@app/common';
import { AuditLog, TenantTransaction } from '@app/database';
import { sealSecret, newSigningSecret } from '@app/events';
import { SecretBox } from '@app/auth';
import {
  bearer,
  createTestApp,
  readsOf,
  SHOWN_ONLY,
  joinByInvitation,
  registerAndLogin,
  WebhookReceiver,
  type TestApp,
} from '@app/testing';
import type { EntityManager } from 'typeorm';

/** Endpoints that should only see test events subscribe to a type nothing here emits. */
const QUIET = { eventTypes: ['role.deleted'] };

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
interface Endpoint {
  id: string;
  url: string;
  secret?: string;
  enabled: boolean;
  eventTypes: string[];
  disabledReason: string | null;
}
interface Delivery {
  id: string;
  webhookId: string;
  eventType: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastLatencyMs: number | null;
  lastResponseBody: string | null;
  lastError: string | null;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
}

/**
 * Webhooks end to end: an owner registers an endpoint, changes happen, and a real receiver on
 * loopback verifies each delivery with the `standardwebhooks` reference verifier; retries, rotation,
 * the delivery log, and every SSRF case refused.
 */
describe('webhooks', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let stray: WebhookReceiver;
  let owner: Account;
  let orgId: string;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    // A second receiver whose port is NOT allow-listed: nothing may ever reach it.
    stray = await WebhookReceiver.start();
    t = await createTestApp({
      env: {
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOWED_PRIVATE_TARGETS: `127.0.0.1:${receiver.port}`,
        WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms',
        WEBHOOK_TIMEOUT: '1',
        WEBHOOK_DISABLE_AFTER: '1h',
      },
    });
    owner = await registerAndLogin(t, 'hooks-owner');
    orgId = (await call(owner, 'POST', '/organizations', { name: 'Hooks Inc' })).json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    await stray?.close();
  });

  function call(as: Account, method: Method, url: string, payload?: object) {
    return t.inject({ method, url: `/api/v1${url}`, headers: bearer(as.tokens.access_token), payload });
  }
  function system<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return t.app.get(TenantTransaction).runAsSystem(work);
  }
  async function register(path: string, extra: object = {}): Promise<Endpoint> {
    const res = await call(owner, 'POST', `/organizations/${orgId}/webhooks/endpoints`, {
      url: receiver.url(path),
      ...extra,
    });
    expect(res.statusCode).toBe(201);
    const endpoint = res.json<Endpoint>();
    receiver.trust(endpoint.secret!);
    return endpoint;
  }
  async function deliveries(endpointId: string): Promise<Delivery[]> {
    const res = await call(owner, 'GET', `/organizations/${orgId}/webhooks/endpoints/${endpointId}/deliveries`);
    expect(res.statusCode).toBe(200);
    return res.json<{ items: Delivery[] }>().items;
  }
  /** Waits until every delivery of the endpoint has settled (succeeded or failed), and returns them. */
  async function settled(endpointId: string, count: number, timeoutMs = 15_000): Promise<Delivery[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const items = await deliveries(endpointId);
      if (items.length >= count && items.every((item) => item.status !== 'pending')) return items;
      if (Date.now() > until) throw new Error(`deliveries not settled: ${JSON.stringify(items)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('delivers a signed team.updated that the reference verifier accepts, and only what the endpoint takes', async () => {
    const endpoint = await register('/teams', { eventTypes: ['team.updated'], description: 'Team sync' });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    // The secret is shown once: never in a list or a read.
    const listed = await call(owner, 'GET', `/organizations/${orgId}/webhooks/endpoints`);
    expect(listed.body).not.toContain(endpoint.secret!.slice(6));
    expect(listed.json<Endpoint[]>()).toEqual([
      expect.objectContaining({ id: endpoint.id, eventTypes: ['team.updated'] }),
    ]);
    // Listing endpoints reads neither sealed secret.
    expect(
      await readsOf(
        t,
        `/api/v1/organizations/${orgId}/webhooks/endpoints`,
        owner.tokens.access_token,
        'webhook_endpoints',
      ),
    ).toEqual(SHOWN_ONLY);
    expect(
      await readsOf(
        t,
        `/api/v1/organizations/${orgId}/webhooks/endpoints/${endpoint.id}`,
        owner.tokens.access_token,
        'webhook_endpoints',
      ),
    ).toEqual(SHOWN_ONLY);

    const team = (await call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'Core' })).json<{ id: string }>();
    expect(
      (await call(owner, 'PUT', `/organizations/${orgId}/teams/${team.id}`, { name: 'Core platform' })).statusCode,
    ).toBe(200);
    const [delivery] = await settled(endpoint.id, 1);
    expect(delivery).toMatchObject({
      eventType: 'team.updated',
      status: 'succeeded',
      attempts: 1,
      lastStatusCode: 200,
    });
    expect(delivery?.lastLatencyMs).toEqual(expect.any(Number));
    expect(delivery?.lastResponseBody).toBe('{"received":true}');
    const received = receiver.at('/teams');
    expect(received).toHaveLength(1);
    expect(received[0]?.verifiedBy).toEqual([endpoint.secret]);
    expect(received[0]?.headers['webhook-id']).toBe(delivery?.webhookId);
    expect(JSON.parse(received[0]!.body)).toEqual({
      type: 'team.updated',
      timestamp: expect.any(String) as unknown,
      data: { id: team.id, organizationId: orgId, actor: { type: 'user', id: owner.userId }, fields: ['name'] },
    });
    // team.created was not asked for: no delivery of it.
    expect((await deliveries(endpoint.id)).map((item) => item.eventType)).toEqual(['team.updated']);
  });

  it('publishes an event only when its change commits', async () => {
    const endpoint = await register('/all');
    await call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'Taken', slug: 'taken-slug' });
    // The same slug again: the change rolls back (409), and so does its event.
    expect(
      (await call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'Again', slug: 'taken-slug' })).statusCode,
    ).toBe(409);
    const items = await settled(endpoint.id, 1);
    expect(items.map((item) => item.eventType)).toEqual(['team.created']);
    expect(
      receiver.at('/all').map((attempt) => (JSON.parse(attempt.body) as { data: { name: string } }).data.name),
    ).toEqual(['Taken']);
  });

  it('retries a failing receiver with the same webhook-id: the fourth attempt lands, exactly once', async () => {
    const endpoint = await register('/flaky', { eventTypes: ['member.added'] });
    receiver.failTimes('/flaky', 3);
    const person = await registerAndLogin(t, 'hooks-person');
    await joinByInvitation(t, owner, orgId, person);
    const [delivery] = await settled(endpoint.id, 1);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 4, lastStatusCode: 200 });
    const attempts = receiver.at('/flaky');
    expect(attempts.map((attempt) => attempt.answered)).toEqual([500, 500, 500, 200]);
    expect(new Set(attempts.map((attempt) => attempt.headers['webhook-id']))).toEqual(new Set([delivery?.webhookId]));
    expect(attempts.every((attempt) => attempt.verifiedBy.length === 1)).toBe(true);
    expect((JSON.parse(attempts[3]!.body) as { data: { id: string } }).data.id).toBe(person.userId);
  });

  it('gives up after the schedule, records why, and resends on request', async () => {
    const endpoint = await register('/down', QUIET);
    receiver.behave('/down', 'fail');
    const test = await call(owner, 'POST', `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}/test`);
    expect(test.statusCode).toBe(201);
    const [failed] = await settled(endpoint.id, 1);
    expect(failed).toMatchObject({
      id: test.json<{ deliveryId: string }>().deliveryId,
      eventType: 'webhook.test',
      status: 'failed',
      attempts: 5,
      lastStatusCode: 500,
      lastError: 'answered 500',
      lastResponseBody: 'receiver is down for maintenance',
    });
    receiver.behave('/down', 'ok');
    const resent = await call(
      owner,
      'POST',
      `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}/deliveries/${failed!.id}/resend`,
    );
    expect(resent.statusCode).toBe(201);
    const [done] = await settled(endpoint.id, 1);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 6 });
    expect(receiver.at('/down').filter((attempt) => attempt.answered === 200)).toHaveLength(1);
    // A resend of something still in flight, or of another endpoint's delivery, is refused.
    const other = await register('/other', QUIET);
    expect(
      (
        await call(
          owner,
          'POST',
          `/organizations/${orgId}/webhooks/endpoints/${other.id}/deliveries/${failed!.id}/resend`,
        )
      ).statusCode,
    ).toBe(404);
  });

  it('signs with both secrets during a rotation, then with the new one', async () => {
    const endpoint = await register('/rotated', QUIET);
    const rotated = await call(
      owner,
      'POST',
      `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}/rotate-secret`,
    );
    expect(rotated.statusCode).toBe(201);
    const { secret } = rotated.json<{ secret: string }>();
    expect(secret).not.toBe(endpoint.secret);
    receiver.trust(secret);
    await call(owner, 'POST', `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}/test`);
    await settled(endpoint.id, 1);
    const [attempt] = receiver.at('/rotated');
    expect(String(attempt?.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(attempt?.verifiedBy.sort()).toEqual([endpoint.secret, secret].sort());
    // Once the overlap is over, only the new secret signs.
    await system((m) =>
      m.query(`UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1`, [
        endpoint.id,
      ]),
    );
    await call(owner, 'POST', `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}/test`);
    await settled(endpoint.id, 2);
    expect(receiver.at('/rotated')[1]?.verifiedBy).toEqual([secret]);
  });

  it('refuses URLs into private networks, with credentials or of other schemes, naming the field', async () => {
    const bad = [
      `http://user:pw@127.0.0.1:${receiver.port}/x`,
      'https://10.0.0.1/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'https://0x7f000001/hook',
      'https://100.64.0.1/hook',
      'https://224.0.0.1/hook',
      'https://localhost/hook',
      `http://127.0.0.1:${stray.port}/hook`,
      'ftp://example.com/hook',
      'javascript:alert(1)',
      'not a url',
      `https://hooks.example.com/${'x'.repeat(10_000)}`,
      `${receiver.url('/x')}#fragment`,
    ];
    for (const url of bad) {
      const res = await call(owner, 'POST', `/organizations/${orgId}/webhooks/endpoints`, { url });
      expect({ url: url.slice(0, 60), status: res.statusCode }).toEqual({ url: url.slice(0, 60), status: 400 });
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json<{ errors: Array<{ field: string }> }>().errors[0]?.field).toBe('url');
    }
    // An update is checked the same way.
    const endpoint = await register('/kept', QUIET);
    const moved = await call(owner, 'PATCH', `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}`, {
      url: 'https://169.254.169.254/',
    });
    expect(moved.statusCode).toBe(400);
    expect(
      (await call(owner, 'GET', `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}`)).json<Endpoint>().url,
    ).toBe(receiver.url('/kept'));
    // Unknown event types too.
    expect(
      (
        await call(owner, 'POST', `/organizations/${orgId}/webhooks/endpoints`, {
          url: receiver.url('/y'),
          eventTypes: ['team.exploded'],
        })
      ).statusCode,
    ).toBe(400);
  });

  it('checks the address again at delivery: no private target, no redirect followed, no endless answer, no hang', async () => {
    // An endpoint whose host now points inside (as after a DNS change): written directly, past registration.
    const id = newId();
    const secret = newSigningSecret();
    await system((m) =>
      m.query(
        `INSERT INTO webhook_endpoints (id, organization_id, url, secret_sealed, event_types, created_by_user_id)
         VALUES ($1, $2, $3, $4, '{role.deleted}', $5)`,
        [
          id,
          orgId,
          stray.url('/inside'),
          sealSecret(new SecretBox(t.config.auth.mfaEncryptionKey), id, secret),
          owner.userId,
        ],
      ),
    );
    await call(owner, 'POST', `/organizations/${orgId}/webhooks/endpoints/${id}/test`);
    const redirect = await register('/redirect', QUIET);
    receiver.behave('/redirect', 'redirect');
    await call(owner, 'POST', `/organizations/${orgId}/webhooks/endpoints/${redirect.id}/test`);
    const huge = await register('/huge', QUIET);
    receiver.behave('/huge', 'huge');
    await call(owner, 'POST', `/organizations/${orgId}/webhooks/endpoints/${huge.id}/test`);
    const hang = await register('/hang', QUIET);
    receiver.behave('/hang', 'hang');
    await call(owner, 'POST', `/organizations/${orgId}/webhooks/endpoints/${hang.id}/test`);

    const [inside] = await settled(id, 1);
    expect(inside).toMatchObject({ status: 'failed', lastStatusCode: null });
    expect(inside?.lastError).toMatch(/^private-address: 127\.0\.0\.1 is a private address/);
    expect(stray.attempts).toHaveLength(0);
    const [redirected] = await settled(redirect.id, 1);
    expect(redirected).toMatchObject({
      status: 'failed',
      lastStatusCode: 302,
      lastError: 'answered 302: redirects are not followed',
    });
    const [cut] = await settled(huge.id, 1);
    expect(cut?.lastError).toMatch(/^too-large: /);
    const [slow] = await settled(hang.id, 1, 30_000);
    expect(slow?.lastError).toMatch(/^timeout: /);
  });

  it('disables an endpoint that keeps failing, and mails the owners', async () => {
    const endpoint = await register('/dead', QUIET);
    receiver.behave('/dead', 'fail');
    // It has been failing for longer than WEBHOOK_DISABLE_AFTER (1h here).
    await system((m) =>
      m.query(`UPDATE webhook_endpoints SET failing_since = now() - interval '2 hours' WHERE id = $1`, [endpoint.id]),
    );
    await call(owner, 'POST', `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}/test`);
    await settled(endpoint.id, 1);
    const now = (
      await call(owner, 'GET', `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}`)
    ).json<Endpoint>();
    expect(now.enabled).toBe(false);
    expect(now.disabledReason).toMatch(/^failing since /);
    const mails = await system((m) =>
      m.query<Array<{ payload: { to: string; subject: string } }>>(
        `SELECT payload FROM outbox WHERE job_name = 'mail.send' AND payload->>'subject' LIKE 'A webhook endpoint of %'`,
      ),
    );
    expect(mails.map((row) => row.payload.to)).toContain(owner.email);
    const audit = await system((m) =>
      m.findOneBy(AuditLog, { action: 'webhook.endpoint.disable', targetId: endpoint.id }),
    );
    expect(audit?.actorType).toBe('system');
    // Disabled: events no longer go to it, resend is refused until someone enables it again.
    expect(
      (
        await call(owner, 'PATCH', `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}`, { enabled: true })
      ).json<Endpoint>(),
    ).toMatchObject({ enabled: true, disabledReason: null });
  });

  it('delivers only what the endpoint’s creator may see, and only while they may', async () => {
    // webhooks:manage alone does not read member or API key events.
    const role = await call(owner, 'POST', `/organizations/${orgId}/roles`, {
      name: 'hook keeper',
      scope: 'organization',
      permissions: ['webhooks:manage', 'teams:read'],
    });
    expect(role.statusCode).toBe(201);
    const keeper = await registerAndLogin(t, 'hooks-keeper');
    await joinByInvitation(t, owner, orgId, keeper, [role.json<{ id: string }>().id]);
    const as = (payload: object) => call(keeper, 'POST', `/organizations/${orgId}/webhooks/endpoints`, payload);
    expect((await as({ url: receiver.url('/keeper') })).statusCode).toBe(403);
    expect((await as({ url: receiver.url('/keeper'), eventTypes: ['member.added'] })).statusCode).toBe(403);
    const mine = await as({ url: receiver.url('/keeper'), eventTypes: ['team.created'] });
    expect(mine.statusCode).toBe(201);
    const endpoint = mine.json<Endpoint>();
    receiver.trust(endpoint.secret!);
    await call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'Seen by the keeper' });
    await settled(endpoint.id, 1);
    // Once the keeper is gone, their endpoint receives nothing more.
    expect((await call(owner, 'DELETE', `/organizations/${orgId}/members/${keeper.userId}`)).statusCode).toBe(204);
    await call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'Not for the keeper' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await deliveries(endpoint.id)).toHaveLength(1);
    expect(receiver.at('/keeper')).toHaveLength(1);
  });

  it('sends a test event to a disabled endpoint, and nothing else', async () => {
    const endpoint = await register('/paused');
    expect(
      (await call(owner, 'PATCH', `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}`, { enabled: false }))
        .statusCode,
    ).toBe(200);
    await call(owner, 'POST', `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}/test`);
    const [delivery] = await settled(endpoint.id, 1);
    expect(delivery).toMatchObject({ eventType: 'webhook.test', status: 'succeeded' });
    expect(receiver.at('/paused')).toHaveLength(1);
  });

  it('is for webhooks:manage only, inside its organization', async () => {
    const member = await registerAndLogin(t, 'hooks-member');
    await joinByInvitation(t, owner, orgId, member);
    expect((await call(member, 'GET', `/organizations/${orgId}/webhooks/endpoints`)).statusCode).toBe(403);
    expect(
      (await call(member, 'POST', `/organizations/${orgId}/webhooks/endpoints`, { url: receiver.url('/m') }))
        .statusCode,
    ).toBe(403);
    const endpoint = await register('/private', QUIET);
    const stranger = await registerAndLogin(t, 'hooks-stranger');
    const theirs = (await call(stranger, 'POST', '/organizations', { name: 'Elsewhere' })).json<{ id: string }>().id;
    expect((await call(stranger, 'GET', `/organizations/${orgId}/webhooks/endpoints/${endpoint.id}`)).statusCode).toBe(
      404,
    );
    expect((await call(stranger, 'GET', `/organizations/${theirs}/webhooks/endpoints/${endpoint.id}`)).statusCode).toBe(
      404,
    );
    expect(
      (await call(stranger, 'DELETE', `/organizations/${theirs}/webhooks/endpoints/${endpoint.id}`)).statusCode,
    ).toBe(404);
    // An API key never manages webhooks (an endpoint reads the organization's activity).
    const key = await call(owner, 'POST', `/organizations/${orgId}/api-keys`, {
      name: 'robot',
      permissions: ['webhooks:manage'],
    });
    expect(key.statusCode).toBe(400);
    // The catalogue is public documentation.
    const types = await t.inject({ method: 'GET', url: '/api/v1/webhooks/event-types' });
    expect(types.statusCode).toBe(200);
    expect(types.json<Array<{ type: string }>>().map((item) => item.type)).toEqual(
      expect.arrayContaining(['team.updated', 'member.added', 'project.created', 'api_key.revoked']),
    );
  });
});
