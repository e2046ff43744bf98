import { createTestApp, type TestApp } from '@app/testing';

/** Two api replicas sharing Redis count one client's requests together. */
describe('rate limit across replicas', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const env = { RATE_LIMIT_PER_MINUTE: '4', TRUST_PROXY: 'true' };
    a = await createTestApp({ redis: true, env });
    b = await createTestApp({ redis: true, replicaOf: a, env });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('refuses the fifth request of a client whose requests alternate between replicas', async () => {
    const call = (app: TestApp) =>
      app.inject({ method: 'GET', url: '/api/v1/auth/providers', headers: { 'x-forwarded-for': '198.51.100.77' } });
    const statuses: number[] = [];
    for (const app of [a, b, a, b, a, b]) statuses.push((await call(app)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    const remaining = await a.inject({
      method: 'GET',
      url: '/api/v1/auth/providers',
      headers: { 'x-forwarded-for': '198.51.100.78' },
    });
    expect(remaining.headers['ratelimit-remaining']).toBe('3');
  });
});
