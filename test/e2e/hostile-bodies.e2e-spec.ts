import { createAppLogger } from '@app/common';
import { bearer, createTestApp, registerAndLogin, type TestApp } from '@app/testing';
import { Writable } from 'node:stream';

const nested = (depth: number, open: string, close: string, inner = '"x"') =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

/** Bodies built to hurt the parser or what recurses over its result: each a 400, nothing logged as an error. */
describe('hostile JSON bodies', () => {
  let t: TestApp;
  let logs = '';

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs += chunk.toString();
        done();
      },
    });
    t = await createTestApp({ logger: createAppLogger('info', 'api', sink) });
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
    t.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload });

  it('answers 400 json-too-deep to 5,000 levels of arrays or objects on public routes', async () => {
    const bodies = [
      `{"token":${nested(5_000, '[', ']')}}`,
      `{"email":${nested(5_000, '{"a":', '}')}}`,
      nested(2_000, '[', ']'),
    ];
    for (const url of ['/api/v1/auth/verify-email', '/api/v1/auth/forgot-password', '/api/v1/auth/login']) {
      for (const body of bodies) {
        const res = await post(url, body);
        expect({ url, status: res.statusCode }).toEqual({ url, status: 400 });
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.json()).toMatchObject({ type: '/problems/json-too-deep' });
      }
    }
    expect(logs).not.toMatch(/"level":(50|60)/);
    expect(logs).not.toContain('Maximum call stack');
  });

  it('counts only real nesting: brackets inside strings and moderate depth pass through to validation', async () => {
    const inString = await post('/api/v1/auth/verify-email', JSON.stringify({ token: '['.repeat(10_000) }));
    expect(inString.statusCode).toBe(400);
    expect(inString.json()).toMatchObject({ type: '/problems/validation-error' });
    const escaped = await post('/api/v1/auth/verify-email', `{"token":"\\\\\\"${'{'.repeat(500)}"}`);
    expect(escaped.json<{ type: string }>().type).not.toBe('/problems/json-too-deep');
    const moderate = await post('/api/v1/auth/verify-email', `{"token":${nested(20, '[', ']')}}`);
    expect(moderate.statusCode).toBe(400);
    expect(moderate.json()).toMatchObject({ type: '/problems/validation-error' });
  });

  it('keeps prototype-poisoning protection and the other body errors as they were', async () => {
    const poisoned = await post('/api/v1/auth/login', '{"__proto__":{"isAdmin":true},"email":"a@b.c","password":"x"}');
    expect(poisoned.statusCode).toBe(400);
    expect((await post('/api/v1/auth/login', '{"unterminated": ')).json()).toMatchObject({
      type: '/problems/malformed-json',
    });
    const { tokens } = await registerAndLogin(t, 'hostile');
    const deepAuthenticated = await post(
      '/api/v1/organizations',
      `{"name":${nested(3_000, '[', ']')}}`,
      bearer(tokens.access_token),
    );
    expect(deepAuthenticated.json()).toMatchObject({ type: '/problems/json-too-deep' });
  });
});
