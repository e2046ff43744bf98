import {
  bearer,
  createTestApp,
  registerAndLogin,
  SoftwareAuthenticator,
  type CreationOptions,
  type RequestOptions,
  type TestApp,
} from '@app/testing';
import { Redis } from 'ioredis';

const ORIGIN = 'https://app.example.test';

/**
 * On PostgreSQL and Redis: a passkey ceremony begun on one replica finishes on another (the
 * challenge is in Redis), and its challenge is spent for all of them.
 */
describe('Passkeys across replicas', () => {
  let a: TestApp;
  let b: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    const env = { APP_URL: ORIGIN, WEBAUTHN_RP_ID: 'example.test' };
    a = await createTestApp({ redis: true, env });
    b = await createTestApp({ redis: true, replicaOf: a, env });
    redis = new Redis(a.config.redisUrl ?? '', { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    redis?.disconnect();
    await b?.close();
    await a?.close();
  });

  it('registers on B what A offered, signs in on A with what B offered, and refuses the replay on either', async () => {
    expect(a.config.database.kind).toBe('postgres');
    const account = await registerAndLogin(a, 'replica-passkey');
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const creation = await a.inject({
      method: 'POST',
      url: '/api/v1/auth/passkeys/registration/options',
      headers: bearer(account.tokens.access_token),
    });
    expect(creation.json()).toMatchObject({ rp: { id: 'example.test' } });
    const registered = await b.inject({
      method: 'POST',
      url: '/api/v1/auth/passkeys',
      headers: bearer(account.tokens.access_token),
      payload: { credential: authenticator.create(creation.json<CreationOptions>()) },
    });
    expect(registered.statusCode).toBe(201);

    const request = await b.inject({ method: 'POST', url: '/api/v1/auth/login/passkey/options' });
    const options = request.json<RequestOptions>();
    const key = `${a.config.queuePrefix}:webauthn:challenge:${options.challenge}`;
    expect(await redis.exists(key)).toBe(1);
    const assertion = authenticator.get(options);
    const signedIn = await a.inject({
      method: 'POST',
      url: '/api/v1/auth/login/passkey',
      payload: { credential: assertion },
    });
    expect(signedIn.statusCode).toBe(200);
    expect(await redis.exists(key)).toBe(0);
    for (const replica of [a, b]) {
      const replay = await replica.inject({
        method: 'POST',
        url: '/api/v1/auth/login/passkey',
        payload: { credential: assertion },
      });
      expect(replay.statusCode).toBe(401);
    }
    const [row] = await a.dataSource.query<Array<{ counter: string }>>(
      'SELECT counter FROM passkeys WHERE user_id = $1',
      [account.userId],
    );
    expect(row?.counter).toBe('1');
  });
});
