import { AuditLog, TenantTransaction } from '@app/database';
import { MailSendJob } from '@app/jobs';
import { JobQueue } from '@app/queue';
import { bearer, createTestApp, registerAndLogin, setPlatformAdmin, type TestApp } from '@app/testing';

/** Bull Board at /admin/queues: platform admins with a board ticket, nobody else. */
describe('queue dashboard (Bull Board on Redis)', () => {
  let api: TestApp;
  let admin: Awaited<ReturnType<typeof registerAndLogin>>;
  let cookie: string;

  const board = (url: string, headers: Record<string, string> = {}, method: 'GET' | 'PUT' = 'GET') =>
    api.inject({ method, url, headers });
  const makeAdmin = (userId: string, isPlatformAdmin: boolean) => setPlatformAdmin(api, userId, isPlatformAdmin);

  beforeAll(async () => {
    api = await createTestApp({ redis: true });
    admin = await registerAndLogin(api, 'board-admin');
    await makeAdmin(admin.userId, true);
    // Something in the queue to look at (nothing runs it: no worker here).
    await api.app.get(JobQueue).enqueue(MailSendJob, { to: 'x@example.test', subject: 'queued', text: 'x' });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('hands platform admins a path-scoped HttpOnly SameSite=Strict cookie, and nobody else', async () => {
    const someone = await registerAndLogin(api, 'board-someone');
    const open = (token: string) =>
      api.inject({ method: 'POST', url: '/api/v1/admin/queues/session', headers: bearer(token) });
    expect((await open(someone.tokens.access_token)).statusCode).toBe(403);
    const res = await open(admin.tokens.access_token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ url: '/admin/queues' });
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^queue_board=[^;]+; Path=\/admin\/queues; Max-Age=900; HttpOnly; SameSite=Strict$/);
    cookie = setCookie.split(';')[0] ?? '';
  });

  it('serves the dashboard and its API with the cookie, under the relaxed page CSP', async () => {
    const page = await board('/admin/queues', { cookie });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('__UI_CONFIG__');
    // Scripts from this origin only: no inline script, no eval.
    expect(/script-src [^;]*/.exec(String(page.headers['content-security-policy']))?.[0]).toBe("script-src 'self'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    const queues = await board('/admin/queues/api/queues', { cookie });
    expect(queues.statusCode).toBe(200);
    const body = queues.json<{ queues: Array<{ name: string; counts: Record<string, number> }> }>();
    expect(body.queues.map((queue) => queue.name).sort()).toEqual(['default', 'llm', 'webhooks']);
    expect(body.queues.find((queue) => queue.name === 'default')?.counts.waiting).toBeGreaterThanOrEqual(1);
  });

  it('refuses without a ticket, with a forged one, and once the admin is no longer one', async () => {
    const forged: Array<Record<string, string>> = [
      {},
      { cookie: `${cookie}x` },
      // The last character of the signature changed.
      { cookie: `${cookie.slice(0, -1)}${cookie.endsWith('A') ? 'B' : 'A'}` },
    ];
    for (const headers of forged) {
      const res = await board('/admin/queues/api/queues', headers);
      expect({ headers, status: res.statusCode }).toEqual({ headers, status: 401 });
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    // A bearer token is not a ticket.
    expect((await board('/admin/queues/api/queues', bearer(admin.tokens.access_token))).statusCode).toBe(401);
    await makeAdmin(admin.userId, false);
    try {
      const res = await board('/admin/queues', { cookie });
      expect(res.statusCode).toBe(403);
    } finally {
      await makeAdmin(admin.userId, true);
    }
  });

  it('ends a ticket with the session that asked for it, on every replica', async () => {
    const replica = await createTestApp({ redis: true, replicaOf: api });
    try {
      const session = await registerAndLogin(api, 'board-leaver');
      await makeAdmin(session.userId, true);
      const opened = await api.inject({
        method: 'POST',
        url: '/api/v1/admin/queues/session',
        headers: bearer(session.tokens.access_token),
      });
      const ticket = String(opened.headers['set-cookie']).split(';')[0] ?? '';
      expect(
        (await replica.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie: ticket } }))
          .statusCode,
      ).toBe(200);
      const out = await api.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(session.tokens.access_token),
        payload: {},
      });
      expect(out.statusCode).toBe(204);
      // The revocation reaches the other replica over Redis pub/sub: wait for it (bounded), then it holds.
      const status = (app: TestApp) =>
        app
          .inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie: ticket } })
          .then((r) => r.statusCode);
      for (let attempt = 0; attempt < 100 && (await status(replica)) !== 401; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await status(replica)).toBe(401);
      expect(await status(api)).toBe(401);
      // The admin's other session's ticket is unaffected.
      expect((await board('/admin/queues/api/queues', { cookie })).statusCode).toBe(200);
    } finally {
      await replica.close();
    }
  });

  it('never shows job payloads (mail jobs carry links and tokens)', async () => {
    const res = await board('/admin/queues/api/queues?activeQueue=default&status=waiting', { cookie });
    const jobs = res
      .json<{ queues: Array<{ name: string; jobs: Array<{ name: string; data: unknown }> }> }>()
      .queues.find((queue) => queue.name === 'default')?.jobs;
    expect(jobs?.length).toBeGreaterThanOrEqual(1);
    expect(jobs?.every((job) => typeof job.data === 'string' && job.data.startsWith('[hidden'))).toBe(true);
    expect(res.body).not.toContain('x@example.test');
  });

  it('refuses adding or editing jobs and emptying queues, even to platform admins', async () => {
    const attempts: Array<['POST' | 'PUT' | 'PATCH', string]> = [
      ['POST', '/admin/queues/api/queues/default/add'],
      ['PUT', '/admin/queues/api/queues/default/obliterate'],
      ['PUT', '/admin/queues/api/queues/default/empty'],
      ['PATCH', '/admin/queues/api/queues/default/some-job/update-data'],
    ];
    for (const [method, url] of attempts) {
      const res = await api.inject({ method, url, headers: { cookie }, payload: {} });
      expect({ url, status: res.statusCode }).toEqual({ url, status: 403 });
      expect(res.json()).toMatchObject({ type: '/problems/queue-board-action-refused' });
    }
    // The queued mail is still there.
    const waiting = await board('/admin/queues/api/queues?activeQueue=default&status=waiting', { cookie });
    expect(
      waiting
        .json<{ queues: Array<{ name: string; counts: Record<string, number> }> }>()
        .queues.find((queue) => queue.name === 'default')?.counts.waiting,
    ).toBeGreaterThanOrEqual(1);
  });

  it('audits what is changed through it', async () => {
    const res = await board('/admin/queues/api/queues/default/pause', { cookie }, 'PUT');
    expect(res.statusCode).toBeLessThan(300);
    await board('/admin/queues/api/queues/default/resume', { cookie }, 'PUT');
    // Recorded once the response is out: wait for it.
    const pausedRow = async () =>
      (
        await api.app
          .get(TenantTransaction)
          .runAsSystem((m) => m.find(AuditLog, { where: { action: 'queues.board', actorId: admin.userId } }))
      ).find((row) => (row.metadata as { path?: string } | null)?.path === '/admin/queues/api/queues/default/pause');
    let row = await pausedRow();
    for (let i = 0; i < 100 && !row; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      row = await pausedRow();
    }
    expect(row).toMatchObject({
      targetType: 'queue',
      targetId: 'default',
      outcome: 'success',
      metadata: { method: 'PUT', path: '/admin/queues/api/queues/default/pause', status: res.statusCode },
    });
  });
});
