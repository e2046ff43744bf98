import {
  createTestApp,
  followToRedirect,
  loginHint,
  startIdentityProviders,
  uniqueEmail,
  type IdentityProviders,
  type TestApp,
} from '@app/testing';
import { randomUUID } from 'node:crypto';

const REDIRECT_BASE = 'http://app.example.test/auth/callback';

/** With Redis, a sign-in started on one replica finishes on another, and its state is used once across all. */
describe('OAuth state across replicas', () => {
  let idp: IdentityProviders;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    idp = await startIdentityProviders([
      {
        name: 'kc',
        path: '/realms/acme',
        clients: [{ client_id: 'kc', client_secret: 'kc-secret', redirect_uris: [`${REDIRECT_BASE}/keycloak`] }],
      },
    ]);
    const env = {
      OAUTH_REDIRECT_URL: REDIRECT_BASE,
      KEYCLOAK_ISSUER: idp.issuers.kc,
      KEYCLOAK_CLIENT_ID: 'kc',
      KEYCLOAK_CLIENT_SECRET: 'kc-secret',
    };
    a = await createTestApp({ redis: true, env });
    b = await createTestApp({ redis: true, replicaOf: a, env });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await idp?.stop();
  });

  it('finishes on replica B a sign-in started on replica A, once', async () => {
    const start = await a.inject({ method: 'GET', url: '/api/v1/auth/oauth/keycloak/authorize' });
    const response = await followToRedirect(
      start.json<{ authorizationUrl: string }>().authorizationUrl,
      `${REDIRECT_BASE}/keycloak`,
      {
        login_hint: loginHint({ sub: randomUUID(), email: uniqueEmail('replica-sso'), email_verified: true }),
      },
    );
    // The browser sends its flow cookie back, whichever replica answers.
    const cookie = ([] as string[]).concat(start.headers['set-cookie'] ?? [])[0]?.split(';')[0] ?? '';
    const headers = { cookie };
    const finished = await b.inject({
      method: 'POST',
      url: '/api/v1/auth/keycloak/callback',
      payload: response,
      headers,
    });
    expect(finished.statusCode).toBe(200);
    const replay = await a.inject({
      method: 'POST',
      url: '/api/v1/auth/keycloak/callback',
      payload: response,
      headers,
    });
    expect(replay.statusCode).toBe(400);
    expect(replay.json<{ type: string }>().type).toBe('/problems/invalid-state');
  });
});
