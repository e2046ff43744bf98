/*
 * Passkey sign-in latency as the front end sees it: POST /auth/login/passkey/options, the
 * authenticator's signature (a software one, well under a millisecond), POST /auth/login/passkey,
 * tokens in hand. Beside it, in the same run, a password sign-in (argon2id at the configured cost),
 * the usual alternative. The real api in process (Fastify inject, no socket), on the embedded
 * database or, under BENCH_SERVICES=1, on PostgreSQL + Redis. Prints medians and p95; asserts
 * nothing about time.
 */
import { performance } from 'node:perf_hooks';
import {
  bearer,
  createTestApp,
  login,
  registerAndLogin,
  SoftwareAuthenticator,
  type CreationOptions,
  type RequestOptions,
  type TestApp,
} from '@app/testing';

const ROUNDS = Number(process.env.PASSKEY_BENCH_ROUNDS ?? 200);
const ORIGIN = 'http://localhost:3000';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

describe('passkey sign-in latency', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ redis: true, env: { APP_URL: ORIGIN } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('measures options to tokens, beside a password sign-in', async () => {
    const passkeyUser = await registerAndLogin(t, 'bench-passkey');
    const passwordUser = await registerAndLogin(t, 'bench-password');
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const options = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/passkeys/registration/options',
      headers: bearer(passkeyUser.tokens.access_token),
    });
    const registered = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/passkeys',
      headers: bearer(passkeyUser.tokens.access_token),
      payload: { credential: authenticator.create(options.json<CreationOptions>()) },
    });
    if (registered.statusCode !== 201) throw new Error(`registration failed: ${registered.body}`);

    const withPasskey = async (): Promise<number> => {
      const begin = performance.now();
      const request = await t.inject({ method: 'POST', url: '/api/v1/auth/login/passkey/options' });
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/login/passkey',
        payload: { credential: authenticator.get(request.json<RequestOptions>()) },
      });
      const elapsed = performance.now() - begin;
      if (res.statusCode !== 200) throw new Error(`passkey sign-in failed: ${res.body}`);
      return elapsed;
    };
    const withPassword = async (): Promise<number> => {
      const begin = performance.now();
      const res = await login(t, passwordUser.email);
      const elapsed = performance.now() - begin;
      if (res.statusCode !== 200) throw new Error(`password sign-in failed: ${res.body}`);
      return elapsed;
    };
    for (let i = 0; i < 20; i += 1) {
      await withPasskey();
      await withPassword();
    }
    const passkey: number[] = [];
    const password: number[] = [];
    // Interleaved, so both see the same machine.
    for (let i = 0; i < ROUNDS; i += 1) {
      passkey.push(await withPasskey());
      password.push(await withPassword());
    }
    passkey.sort((a, b) => a - b);
    password.sort((a, b) => a - b);
    const database = process.env.TEST_PG_TEMPLATE ? 'PostgreSQL + Redis' : 'embedded (PGlite, in-process jobs)';
    const line = (name: string, samples: number[]) =>
      `${name} median ${percentile(samples, 50).toFixed(2)} ms, p95 ${percentile(samples, 95).toFixed(2)} ms`;
    process.stdout.write(
      `\nSign-in to tokens, ${database}, ${ROUNDS} rounds each, interleaved: ` +
        `${line('passkey (options + assertion)', passkey)}; ${line('password', password)}\n`,
    );
    expect(passkey).toHaveLength(ROUNDS);
  });
});
