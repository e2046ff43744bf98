import { TenantTransaction, User } from '@app/database';
import { PasswordHasher } from '@app/auth';
import { bearer, createTestApp, login, registerAndLogin, type TestApp, type Tokens } from '@app/testing';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Two api replicas sharing PostgreSQL and Redis: a SCIM deprovisioning on one cuts access on the other. */
describe('SCIM deprovisioning across replicas', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await createTestApp({ redis: true });
    b = await createTestApp({ redis: true, replicaOf: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('refuses the deprovisioned person on the other replica, which had their access cached', async () => {
    const owner = await registerAndLogin(a, 'scim-replica-owner');
    const call = (method: 'POST', url: string, payload: object) =>
      a.inject({ method, url: `/api/v1${url}`, headers: bearer(owner.tokens.access_token), payload });
    const orgId = (await call('POST', '/organizations', { name: 'Replicated' })).json<{ id: string }>().id;
    const domain = (await call('POST', `/organizations/${orgId}/domains`, { domain: 'replicated.example' })).json<{
      id: string;
    }>();
    // The DNS proof has its own tests: mark the domain verified directly.
    await a.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.query('UPDATE organization_domains SET verified_at = now() WHERE id = $1', [domain.id]));
    const token = (await call('POST', `/organizations/${orgId}/scim/tokens`, { name: 'IdP' })).json<{ token: string }>()
      .token;
    const scim = (method: 'POST' | 'PATCH', path: string, payload: object) =>
      a.inject({
        method,
        url: `/api/v1/organizations/${orgId}/scim/v2${path}`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        payload: JSON.stringify(payload),
      });
    const email = 'worker@replicated.example';
    const created = await scim('POST', '/Users', { schemas: [USER], userName: email });
    expect(created.statusCode).toBe(201);
    const hash = await a.app.get(PasswordHasher).hash('A-strong-password-for-replicas-7');
    await a.app.get(TenantTransaction).runAsSystem((m) => m.update(User, { email }, { passwordHash: hash }));
    const person = (await login(b, email, 'A-strong-password-for-replicas-7')).json<Tokens>();
    const teams = (app: TestApp) =>
      app
        .inject({ method: 'GET', url: `/api/v1/organizations/${orgId}/teams`, headers: bearer(person.access_token) })
        .then((res) => res.statusCode);
    // B has the membership cached.
    expect(await teams(b)).toBe(200);

    const off = await scim('PATCH', `/Users/${created.json<{ id: string }>().id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(off.statusCode).toBe(200);
    // The invalidation reaches B over Redis pub/sub: wait for it (bounded), then it holds on both.
    for (let attempt = 0; attempt < 100 && (await teams(b)) !== 404; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await teams(b)).toBe(404);
    expect(await teams(a)).toBe(404);
  });
});
