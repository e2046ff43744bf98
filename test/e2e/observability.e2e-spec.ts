import { createAppLogger } from '@app/common';
import { TenantTransaction } from '@app/database';
import {
  bearer,
  createTestApp,
  login,
  registerAndLogin,
  startSmtpSink,
  STRONG_PASSWORD,
  tokenFromMail,
  type SmtpSink,
  type TestApp,
} from '@app/testing';
import { Writable } from 'node:stream';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

describe('observability', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let logs = '';

  beforeAll(async () => {
    smtp = await startSmtpSink();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs += chunk.toString();
        done();
      },
    });
    t = await createTestApp({
      env: { METRICS_TOKEN, SMTP_URL: smtp.url },
      logger: createAppLogger('debug', 'api', sink),
    });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const scrape = (token?: string) =>
    t.inject({ method: 'GET', url: '/metrics', headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('serves Prometheus metrics behind METRICS_TOKEN', async () => {
    expect((await scrape()).statusCode).toBe(401);
    expect((await scrape('wrong-token-wrong-token')).statusCode).toBe(401);
    const user = await registerAndLogin(t, 'metrics');
    await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(user.tokens.access_token) });
    expect((await login(t, user.email, 'not-the-password-at-all')).statusCode).toBe(401);
    const res = await scrape(METRICS_TOKEN);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(
      /http_request_duration_seconds_bucket\{[^}]*method="GET"[^}]*route="\/api\/v1\/users\/me"[^}]*status="200"/,
    );
    expect(res.body).toMatch(/audit_events_total\{action="auth\.login",outcome="failure"\} 1/);
    expect(res.body).toMatch(/db_pool_connections\{state="total"\} \d+/);
    expect(res.body).toContain('http_requests_in_flight');
    expect(res.body).toContain('process_resident_memory_bytes');
    // Unknown URLs are one label value, not one per URL.
    await t.inject({ method: 'GET', url: '/no/such/place/123' });
    expect((await scrape(METRICS_TOKEN)).body).toMatch(/route="unmatched"/);
    expect((await scrape(METRICS_TOKEN)).body).not.toContain('/no/such/place');
  });

  it('logs one structured line per request with route, status, duration and user', async () => {
    const user = await registerAndLogin(t, 'logline');
    await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(user.tokens.access_token) });
    const line = logs
      .split('\n')
      .filter((entry) => entry.includes('"msg":"request"') && entry.includes(user.userId))
      .map((entry) => JSON.parse(entry) as Record<string, unknown>)
      .at(-1);
    expect(line).toMatchObject({
      route: '/api/v1/users/me',
      status: 200,
      userId: user.userId,
      requestId: expect.any(String) as string,
      ms: expect.any(Number) as number,
    });
  });

  it('never writes a password, token or key into a log line or an audit row', async () => {
    const user = await registerAndLogin(t, 'secrets');
    const secrets = [STRONG_PASSWORD, user.tokens.access_token, user.tokens.refresh_token];
    const refreshed = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: user.tokens.refresh_token },
    });
    secrets.push(refreshed.json<{ refresh_token: string }>().refresh_token);
    await t.inject({ method: 'POST', url: '/api/v1/auth/forgot-password', payload: { email: user.email } });
    const reset = await tokenFromMail(smtp, user.email, /Reset your/);
    secrets.push(reset);
    const newPassword = 'Quartz-Meadow-Lantern-5512';
    secrets.push(newPassword);
    expect(
      (
        await t.inject({
          method: 'POST',
          url: '/api/v1/auth/reset-password',
          payload: { token: reset, password: newPassword },
        })
      ).statusCode,
    ).toBe(200);
    const relogged = await login(t, user.email, newPassword);
    const access = relogged.json<{ access_token: string }>().access_token;
    const orgId = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/organizations',
        headers: bearer(access),
        payload: { name: 'Secretive' },
      })
    ).json<{ id: string }>().id;
    const key = (
      await t.inject({
        method: 'POST',
        url: `/api/v1/organizations/${orgId}/api-keys`,
        headers: bearer(access),
        payload: { name: 'k', permissions: ['teams:read'] },
      })
    ).json<{ key: string }>().key;
    secrets.push(key);
    await t.inject({ method: 'GET', url: `/api/v1/organizations/${orgId}/teams`, headers: { 'x-api-key': key } });

    const audit = JSON.stringify(
      await t.app.get(TenantTransaction).runAsSystem((m) => m.query('SELECT * FROM audit_logs')),
    );
    for (const secret of secrets) {
      expect({ secret: secret.slice(0, 12), inLogs: logs.includes(secret) }).toEqual({
        secret: secret.slice(0, 12),
        inLogs: false,
      });
      expect({ secret: secret.slice(0, 12), inAudit: audit.includes(secret) }).toEqual({
        secret: secret.slice(0, 12),
        inAudit: false,
      });
    }
  });
});

describe('observability without a metrics token', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('does not expose /metrics', async () => {
    expect((await t.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
  });
});
