/*
 * Single sign-on latency, as a person sees it after the IdP: from the IdP's POST to the ACS to the
 * tokens in the front end's hands (ACS 303 + POST /auth/sso/token), for a person signing in again
 * (the account and membership exist). The real api in process (Fastify inject, no socket), a real
 * signed SAML response from the samlify IdP, on the embedded database or, under
 * `BENCH_SERVICES=1` (the second half of `npm run bench:identity`), on PostgreSQL + Redis. Prints medians and p95; asserts
 * nothing about time (timing goals live in reports, not in tests).
 */
import { performance } from 'node:perf_hooks';
import {
  bearer,
  createTestApp,
  registerAndLogin,
  startDnsServer,
  startSamlIdp,
  type DnsServer,
  type SamlIdp,
  type TestApp,
} from '@app/testing';

const ROUNDS = Number(process.env.SSO_BENCH_ROUNDS ?? 200);
const APP_URL = 'http://sso-bench.test';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

describe('single sign-on latency', () => {
  let t: TestApp;
  let dns: DnsServer;
  let idp: SamlIdp;

  beforeAll(async () => {
    dns = await startDnsServer();
    idp = await startSamlIdp();
    t = await createTestApp({
      redis: true,
      env: { APP_URL, SSO_RETURN_URL: 'https://app.sso-bench.test/cb', SSO_DNS_SERVERS: dns.address },
    });
  });
  afterAll(async () => {
    await t?.close();
    await dns?.close();
  });

  it('measures ACS request to tokens', async () => {
    const owner = await registerAndLogin(t, 'bench-owner');
    const call = (method: 'POST', url: string, payload?: object) =>
      t.inject({ method, url: `/api/v1${url}`, headers: bearer(owner.tokens.access_token), payload });
    const orgId = (await call('POST', '/organizations', { name: 'Bench' })).json<{ id: string }>().id;
    const connection = (
      await call('POST', `/organizations/${orgId}/sso/connections`, { name: 'IdP', metadataXml: idp.metadataXml })
    ).json<{ id: string; spEntityId: string; acsUrl: string }>();
    const domain = (await call('POST', `/organizations/${orgId}/domains`, { domain: 'bench.example' })).json<{
      id: string;
      txtRecord: { name: string; value: string };
    }>();
    dns.setTxt(domain.txtRecord.name, [domain.txtRecord.value]);
    await call('POST', `/organizations/${orgId}/domains/${domain.id}/verify`);

    const once = async (): Promise<number> => {
      const started = await t.inject({ method: 'GET', url: `/api/v1/sso/${connection.id}/authorize` });
      const cookie = String(started.headers['set-cookie']).split(';')[0] ?? '';
      const location = started.headers.location as string;
      const request = await idp.parseAuthnRequest(location);
      const response = await idp.respond({
        spEntityId: connection.spEntityId,
        acsUrl: connection.acsUrl,
        inResponseTo: request.id,
        nameId: 'returning@bench.example',
        attributes: { email: ['returning@bench.example'] },
      });
      const form = new URLSearchParams({
        SAMLResponse: response,
        RelayState: new URL(location).searchParams.get('RelayState') ?? '',
      }).toString();
      const begin = performance.now();
      const acs = await t.inject({
        method: 'POST',
        url: `/api/v1/sso/saml/${connection.id}/acs`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        payload: form,
      });
      const code = new URL(acs.headers.location as string).searchParams.get('sso_code');
      const tokens = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/sso/token',
        payload: { code },
        headers: { cookie },
      });
      const elapsed = performance.now() - begin;
      if (tokens.statusCode !== 200) throw new Error(`sign-in failed: ${acs.headers.location} ${tokens.body}`);
      return elapsed;
    };
    // The first sign-in provisions the account; then warm up the JIT.
    for (let i = 0; i < 20; i += 1) await once();
    const samples: number[] = [];
    for (let i = 0; i < ROUNDS; i += 1) samples.push(await once());
    samples.sort((a, b) => a - b);
    const database = process.env.TEST_PG_TEMPLATE ? 'PostgreSQL + Redis' : 'embedded (PGlite, in-process jobs)';
    process.stdout.write(
      `\nSSO sign-in, ACS request to tokens, ${database}, ${ROUNDS} rounds: ` +
        `median ${percentile(samples, 50).toFixed(2)} ms, p95 ${percentile(samples, 95).toFixed(2)} ms\n`,
    );
    expect(samples).toHaveLength(ROUNDS);
  });
});
