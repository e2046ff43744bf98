import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Strategy as OAuth2Strategy } from 'passport-oauth2';
import { hardenOAuth2Transport, ProviderTransportError } from './oauth2-transport';
import { runStrategy, strategyRequest, StrategyTimeout } from './passport-bridge';

const intent = { provider: 'test', intent: 'login' as const };

describe('runStrategy (passport on Fastify)', () => {
  interface Actions {
    success(user: unknown, info?: unknown): void;
    fail(challenge?: unknown, status?: number): void;
    redirect(url: string): void;
    pass(): void;
    error(error: unknown): void;
  }
  const strategy = (body: (this: Actions, req: { query: Record<string, string> }) => void) => ({
    authenticate: body,
  });

  it('answers with what the strategy decided: redirect, success, fail, pass', async () => {
    await expect(
      runStrategy(
        strategy(function () {
          this.redirect('https://idp.test/auth');
        }),
        strategyRequest(intent),
      ),
    ).resolves.toEqual({
      kind: 'redirect',
      url: 'https://idp.test/auth',
      status: 302,
    });
    const success = strategy(function (req) {
      this.success({ id: req.query.code }, { note: 1 });
    });
    await expect(runStrategy(success, strategyRequest(intent, { query: { code: 'c1' } }))).resolves.toEqual({
      kind: 'success',
      user: { id: 'c1' },
      info: { note: 1 },
    });
    await expect(
      runStrategy(
        strategy(function () {
          this.fail({ message: 'no' }, 403);
        }),
        strategyRequest(intent),
      ),
    ).resolves.toEqual({
      kind: 'fail',
      challenge: { message: 'no' },
      status: 403,
    });
    await expect(
      runStrategy(
        strategy(function () {
          this.fail(401);
        }),
        strategyRequest(intent),
      ),
    ).resolves.toEqual({
      kind: 'fail',
      challenge: undefined,
      status: 401,
    });
    await expect(
      runStrategy(
        strategy(function () {
          this.pass();
        }),
        strategyRequest(intent),
      ),
    ).resolves.toEqual({ kind: 'pass' });
  });

  it('rejects on error or a throw, takes only the first answer, and times out a strategy that never answers', async () => {
    const both = strategy(function () {
      this.error(new Error('first'));
      this.success({ late: true });
    });
    await expect(runStrategy(both, strategyRequest(intent))).rejects.toThrow('first');
    const throws = strategy(() => {
      throw new Error('thrown');
    });
    await expect(runStrategy(throws, strategyRequest(intent))).rejects.toThrow('thrown');
    const silent = strategy(() => undefined);
    await expect(runStrategy(silent, strategyRequest(intent), {}, 20)).rejects.toBeInstanceOf(StrategyTimeout);
  });

  it('leaves the strategy itself untouched (actions live on a per-attempt object)', async () => {
    const target = strategy(function () {
      this.success('x');
    });
    await runStrategy(target, strategyRequest(intent));
    expect(Object.keys(target)).toEqual(['authenticate']);
  });
});

describe('hardenOAuth2Transport', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      // node-oauth puts the token in the query string unless told to use a header.
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/slow') return void setTimeout(() => res.end('{}'), 2_000);
      if (path === '/huge') return void res.end('x'.repeat(50_000));
      if (path === '/html') return void res.end('<html>not json</html>');
      if (path === '/error') {
        res.statusCode = 500;
        return void res.end('down');
      }
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function client() {
    const s = new OAuth2Strategy(
      { authorizationURL: `${base}/auth`, tokenURL: `${base}/token`, clientID: 'c', clientSecret: 's' },
      () => undefined,
    );
    hardenOAuth2Transport(s, { timeoutMs: 200, maxBytes: 10_000 });
    const oauth2 = (
      s as unknown as { _oauth2: { get(url: string, token: string, cb: (e: unknown, body?: string) => void): void } }
    )._oauth2;
    return (path: string) =>
      new Promise<{ error: unknown; body: string | undefined }>((resolve) =>
        oauth2.get(`${base}${path}`, 'token', (error, body) => resolve({ error, body })),
      );
  }

  it('passes JSON through and reports other statuses as node-oauth does', async () => {
    const get = client();
    expect(await get('/ok')).toEqual({ error: null, body: '{"ok":true}' });
    expect((await get('/error')).error).toEqual({ statusCode: 500, data: 'down' });
  });

  it('bounds time and size, and turns a non-JSON API answer into an error instead of a crash', async () => {
    const get = client();
    const slow = await get('/slow');
    expect(slow.error).toBeInstanceOf(ProviderTransportError);
    expect((slow.error as ProviderTransportError).code).toBe('ETIMEDOUT');
    expect(((await get('/huge')).error as ProviderTransportError).code).toBe('ETOOLARGE');
    expect(((await get('/html')).error as ProviderTransportError).code).toBe('EBADJSON');
  });

  it('refuses an object that is not a passport-oauth2 strategy', () => {
    expect(() => hardenOAuth2Transport({}, { timeoutMs: 1, maxBytes: 1 })).toThrow(/not a passport-oauth2 strategy/);
  });
});
