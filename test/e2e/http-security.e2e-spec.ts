import { AuditLog, TenantTransaction } from '@app/database';
import {
  bearer,
  createTestApp,
  login,
  register,
  registerAndLogin,
  STRONG_PASSWORD,
  uniqueEmail,
  type TestApp,
  type Tokens,
} from '@app/testing';
import { connect, type AddressInfo } from 'node:net';

const ORIGIN = 'https://app.example.test';
const SECURITY_HEADERS = [
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'permissions-policy',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-frame-options',
  'x-powered-by',
];

function pick(headers: Record<string, unknown>, names: string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, headers[name] ?? null]));
}

describe('HTTP security: headers, CORS and rate limits', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        CORS_ORIGINS: `${ORIGIN}, https://admin.example.test`,
        TRUST_PROXY: 'true',
        RATE_LIMIT_PER_MINUTE: '5',
        AUTH_RATE_LIMIT_PER_MINUTE: '3',
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it('sends the security headers on API responses and errors', async () => {
    const ok = await t.inject({ method: 'GET', url: '/health' });
    expect(pick(ok.headers, SECURITY_HEADERS)).toMatchSnapshot();
    const problem = await t.inject({ method: 'GET', url: '/api/v1/nowhere', headers: from('198.51.100.1') });
    expect(problem.statusCode).toBe(404);
    expect(pick(problem.headers, SECURITY_HEADERS)).toEqual(pick(ok.headers, SECURITY_HEADERS));
  });

  it('tells every cache not to keep API answers, unless the route allows caching itself', async () => {
    const { tokens } = await registerAndLogin(t, 'cache', from('198.51.100.76'));
    const me = await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(tokens.access_token) });
    expect(me.statusCode).toBe(200);
    expect(me.headers['cache-control']).toBe('no-store');
    const refused = await t.inject({ method: 'GET', url: '/api/v1/users/me' });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['cache-control']).toBe('no-store');
    const login = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: uniqueEmail('cache-none'), password: STRONG_PASSWORD },
      headers: from('198.51.100.77'),
    });
    expect(login.statusCode).toBe(401);
    expect(login.headers['cache-control']).toBe('no-store');
    // ReDoc's script bundle is the same for everyone: it keeps its own, cacheable, header.
    const bundle = await t.inject({ method: 'GET', url: '/redoc/redoc.standalone.js' });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['cache-control']).toBe('public, max-age=86400');
    // A route whose answer may be cached still answers its errors with no-store: the key set's
    // five minutes are for the keys, not for the 404 an HS256 deployment answers there.
    const keys = await t.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(keys.statusCode).toBe(404);
    expect(keys.headers['cache-control']).toBe('no-store');
  });

  it('relaxes the content security policy only for the documentation pages', async () => {
    const docs = await t.inject({ method: 'GET', url: '/redoc' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-security-policy']).toMatchSnapshot();
    expect(docs.headers['x-frame-options']).toBe('DENY');
  });

  it('answers CORS preflights and requests for the listed origins only', async () => {
    const preflight = await t.inject({
      method: 'OPTIONS',
      url: '/api/v1/users/me',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization, x-api-key',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(
      pick(
        preflight.headers,
        Object.keys(preflight.headers).filter((h) => h.startsWith('access-control-')),
      ),
    ).toMatchSnapshot();
    const simple = await t.inject({ method: 'GET', url: '/health', headers: { origin: ORIGIN } });
    expect(simple.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(simple.headers['access-control-expose-headers']).toContain('ratelimit-remaining');

    for (const origin of ['https://evil.example.test', 'https://app.example.test.evil.test', 'null']) {
      const refused = await t.inject({
        method: 'OPTIONS',
        url: '/api/v1/users/me',
        headers: { origin, 'access-control-request-method': 'GET' },
      });
      expect({ origin, allow: refused.headers['access-control-allow-origin'] ?? null }).toEqual({
        origin,
        allow: null,
      });
      const get = await t.inject({ method: 'GET', url: '/health', headers: { origin } });
      expect(get.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('limits each user, with RateLimit headers, and answers 429 as problem+json with Retry-After', async () => {
    const ann = await registerAndLogin(t, 'rl-ann', from('100.64.0.1'));
    const bob = await registerAndLogin(t, 'rl-bob', from('100.64.0.2'));
    const me = (token: string) => t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) });
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await me(ann.tokens.access_token);
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('5');
      remaining.push(String(res.headers['ratelimit-remaining']));
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
    const limited = await me(ann.tokens.access_token);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.json()).toMatchObject({ type: '/problems/rate-limited', status: 429 });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    // Another user is counted separately.
    expect((await me(bob.tokens.access_token)).statusCode).toBe(200);
  });

  it('records the client behind the proxy (not the proxy) in audit rows and sessions', async () => {
    const email = uniqueEmail('behind-proxy');
    const { id: userId } = await register(t, email, undefined, undefined, from('203.0.113.21'));
    const signedIn = await login(t, email, undefined, { ...from('203.0.113.22'), 'user-agent': 'proxied-client/2.0' });
    expect(signedIn.statusCode).toBe(200);
    const rows = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { actorId: userId }, order: { occurredAt: 'ASC' } }));
    expect(rows.map((row) => [row.action, row.ip, row.requestId !== null])).toEqual(
      expect.arrayContaining([
        ['auth.register', '203.0.113.21', true],
        ['auth.login', '203.0.113.22', true],
      ]),
    );
    const sessions = await t.inject({
      method: 'GET',
      url: '/api/v1/auth/sessions',
      headers: { ...bearer(signedIn.json<Tokens>().access_token), ...from('203.0.113.23') },
    });
    expect(sessions.json<Array<{ ip: string | null; userAgent: string | null }>>()).toEqual([
      expect.objectContaining({ ip: '203.0.113.22', userAgent: 'proxied-client/2.0' }),
    ]);
  });

  it('records no address (and still answers) when X-Forwarded-For holds something that is not an IP', async () => {
    const email = uniqueEmail('forged-address');
    const { id: userId } = await register(t, email, undefined, undefined, from('203.0.113.41'));
    // Two attempts: with the registration, the account's limit here (3 a minute) is reached.
    for (const forged of ['x'.repeat(100), '203.0.113.42<script>']) {
      const res = await login(t, email, 'not-the-password', from(forged));
      expect(res.statusCode).toBe(401);
    }
    const rows = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { actorId: userId, action: 'auth.login' } }));
    expect(rows.map((row) => [row.outcome, row.ip])).toEqual([
      ['failure', null],
      ['failure', null],
    ]);
  });

  it('keeps the request context when the body arrives in pieces over a real socket', async () => {
    const email = uniqueEmail('slow-body');
    await register(t, email, undefined, undefined, from('203.0.113.31'));
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const body = JSON.stringify({ email, password: STRONG_PASSWORD });
    const socket = connect(port, '127.0.0.1');
    let response = '';
    socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Forwarded-For: 203.0.113.32\r\nX-Request-ID: slow-body-request\r\n\r\n${body.slice(0, 10)}`,
    );
    // The rest comes in a later read, on the socket's async context.
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(body.slice(10));
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    const rows = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { action: 'auth.login', requestId: 'slow-body-request' } }));
    expect(rows.map((row) => row.ip)).toEqual(['203.0.113.32']);
  });

  it('limits anonymous callers by address (X-Forwarded-For believed with TRUST_PROXY), never the probes', async () => {
    const providers = (ip: string) => t.inject({ method: 'GET', url: '/api/v1/auth/providers', headers: from(ip) });
    for (let i = 0; i < 5; i++) expect((await providers('203.0.113.5')).statusCode).toBe(200);
    expect((await providers('203.0.113.5')).statusCode).toBe(429);
    expect((await providers('203.0.113.6')).statusCode).toBe(200);
    for (let i = 0; i < 20; i++) {
      expect((await t.inject({ method: 'GET', url: '/health', headers: from('203.0.113.5') })).statusCode).toBe(200);
    }
  });

  it('limits credential endpoints strictly, per address and per target account', async () => {
    const email = uniqueEmail('rl-target');
    await register(t, email, undefined, undefined, from('100.64.0.3'));
    const attempt = (ip: string, target = email) =>
      t.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: from(ip),
        payload: { email: target, password: 'definitely-wrong-password' },
      });
    // One address: 3 attempts, then 429, whichever account it tries.
    for (let i = 0; i < 3; i++) expect((await attempt('192.0.2.10', uniqueEmail('rl-any'))).statusCode).toBe(401);
    expect((await attempt('192.0.2.10', uniqueEmail('rl-any'))).statusCode).toBe(429);
    // One account from many addresses (its registration was the first of its 3): then 429,
    // so a botnet does not get around the per-address limit.
    for (const ip of ['192.0.2.21', '192.0.2.22']) expect((await attempt(ip)).statusCode).toBe(401);
    const stuffed = await attempt('192.0.2.23');
    expect(stuffed.statusCode).toBe(429);
    expect(stuffed.json()).toMatchObject({ type: '/problems/rate-limited' });
  });
});

describe('HTTP security in production', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { NODE_ENV: 'production', RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('sends HSTS, sends no CORS headers without CORS_ORIGINS, and ignores X-Forwarded-For by default', async () => {
    const res = await t.inject({ method: 'GET', url: '/health', headers: { origin: ORIGIN } });
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    // Spoofed addresses do not buy new buckets: all these come from the same socket.
    const statuses: number[] = [];
    for (const ip of ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4']) {
      statuses.push(
        (await t.inject({ method: 'GET', url: '/api/v1/auth/providers', headers: { 'x-forwarded-for': ip } }))
          .statusCode,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});
