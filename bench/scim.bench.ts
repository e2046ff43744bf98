/*
 * Directory sync throughput and reach: users provisioned per second through POST /Users (one IdP
 * client, requests in sequence, as IdPs send them), and the time from a deprovisioning PATCH's
 * answer to the first refused request of that person (on a second replica sharing Redis under
 * `--services`, on the same process otherwise), and how long group PATCHes of 1,000 and 10,000
 * members take (add, then remove all). Prints figures; asserts nothing about time.
 */
import { performance } from 'node:perf_hooks';
import { PasswordHasher } from '@app/auth';
import { newId } from '@app/common';
import { TenantTransaction, User } from '@app/database';
import { SYSTEM_ROLES } from '@app/rbac';
import { bearer, createTestApp, login, registerAndLogin, type TestApp, type Tokens } from '@app/testing';

const USERS = Number(process.env.SCIM_BENCH_USERS ?? 200);
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe('directory sync (SCIM)', () => {
  let a: TestApp;
  let b: TestApp;
  const services = Boolean(process.env.TEST_PG_TEMPLATE);

  beforeAll(async () => {
    a = await createTestApp({ redis: true });
    b = services ? await createTestApp({ redis: true, replicaOf: a }) : a;
  });
  afterAll(async () => {
    if (b !== a) await b?.close();
    await a?.close();
  });

  it('measures provisioning rate and deprovisioning reach', async () => {
    const owner = await registerAndLogin(a, 'scim-bench');
    const call = (url: string, payload: object) =>
      a.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(owner.tokens.access_token), payload });
    const orgId = (await call('/organizations', { name: 'Bench' })).json<{ id: string }>().id;
    const domain = (await call(`/organizations/${orgId}/domains`, { domain: 'scim-bench.example' })).json<{
      id: string;
    }>();
    await a.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.query('UPDATE organization_domains SET verified_at = now() WHERE id = $1', [domain.id]));
    const token = (await call(`/organizations/${orgId}/scim/tokens`, { name: 'IdP' })).json<{ token: string }>().token;
    const scim = (method: 'POST' | 'PATCH', path: string, payload: object) =>
      a.inject({
        method,
        url: `/api/v1/organizations/${orgId}/scim/v2${path}`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        payload: JSON.stringify(payload),
      });
    for (let i = 0; i < 10; i += 1)
      await scim('POST', '/Users', { schemas: [USER], userName: `warm${i}@scim-bench.example` });
    const begin = performance.now();
    for (let i = 0; i < USERS; i += 1) {
      const res = await scim('POST', '/Users', {
        schemas: [USER],
        userName: `person${i}@scim-bench.example`,
        name: { givenName: 'Person', familyName: String(i) },
        active: true,
      });
      if (res.statusCode !== 201) throw new Error(`provisioning failed: ${res.statusCode} ${res.body}`);
    }
    const perSecond = USERS / ((performance.now() - begin) / 1000);

    const email = 'leaver@scim-bench.example';
    const created = await scim('POST', '/Users', { schemas: [USER], userName: email });
    const hash = await a.app.get(PasswordHasher).hash('A-strong-password-for-bench-42');
    await a.app.get(TenantTransaction).runAsSystem((m) => m.update(User, { email }, { passwordHash: hash }));
    const person = (await login(b, email, 'A-strong-password-for-bench-42')).json<Tokens>();
    const teams = () =>
      b
        .inject({ method: 'GET', url: `/api/v1/organizations/${orgId}/teams`, headers: bearer(person.access_token) })
        .then((res) => res.statusCode);
    expect(await teams()).toBe(200);
    await scim('PATCH', `/Users/${created.json<{ id: string }>().id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    const acknowledged = performance.now();
    let tries = 0;
    while ((await teams()) !== 404 && tries < 5_000) tries += 1;
    const reach = performance.now() - acknowledged;
    process.stdout.write(
      `\nSCIM, ${services ? 'PostgreSQL + Redis, two replicas' : 'embedded (PGlite, in-process)'}: ` +
        `${perSecond.toFixed(1)} users provisioned per second (${USERS}, in sequence); ` +
        `deprovisioning answered → first refused request ${reach.toFixed(1)} ms (${tries} requests allowed in between)\n`,
    );
    expect(tries).toBeLessThan(5_000);
  });

  it('measures group membership PATCHes of 1,000 and 10,000 members', async () => {
    const owner = await registerAndLogin(a, 'scim-bench-groups');
    const orgId = (
      await a.inject({
        method: 'POST',
        url: '/api/v1/organizations',
        headers: bearer(owner.tokens.access_token),
        payload: { name: 'Bench groups' },
      })
    ).json<{ id: string }>().id;
    const token = (
      await a.inject({
        method: 'POST',
        url: `/api/v1/organizations/${orgId}/scim/tokens`,
        headers: bearer(owner.tokens.access_token),
        payload: { name: 'IdP' },
      })
    ).json<{ token: string }>().token;
    const scim = (method: 'POST' | 'PATCH', path: string, payload: object) =>
      a.inject({
        method,
        url: `/api/v1/organizations/${orgId}/scim/v2${path}`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        payload: JSON.stringify(payload),
      });
    // 10,000 provisioned members written directly: POST /Users is measured above.
    const ids = Array.from({ length: 10_000 }, () => newId());
    const userIds = ids.map(() => newId());
    await a.app.get(TenantTransaction).runAsSystem(async (m) => {
      await m.query(
        `INSERT INTO users (id, email, email_verified_at) SELECT id, 'g' || n || '@groups-bench.example', now()
           FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
        [userIds],
      );
      await m.query(
        `INSERT INTO organization_members (id, organization_id, user_id) SELECT gen_random_uuid(), $1, id FROM unnest($2::uuid[]) AS t(id)`,
        [orgId, userIds],
      );
      await m.query(
        `INSERT INTO role_assignments (id, organization_id, user_id, role_id) SELECT gen_random_uuid(), $1, id, $3 FROM unnest($2::uuid[]) AS t(id)`,
        [orgId, userIds, SYSTEM_ROLES.member.id],
      );
      await m.query(
        `INSERT INTO scim_users (id, organization_id, user_id, user_name)
         SELECT s, $1, u, 'g' || n || '@groups-bench.example' FROM unnest($2::uuid[], $3::uuid[]) WITH ORDINALITY AS t(s, u, n)`,
        [orgId, ids, userIds],
      );
    });
    const lines: string[] = [];
    for (const size of [1_000, 10_000]) {
      const group = (
        await scim('POST', '/Groups', {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
          displayName: `Bench ${size}`,
        })
      ).json<{ id: string }>();
      const timed = async (Operations: object[]) => {
        const begin = performance.now();
        const res = await scim('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP], Operations });
        if (res.statusCode !== 204) throw new Error(`group PATCH failed: ${res.statusCode} ${res.body}`);
        return performance.now() - begin;
      };
      const add = await timed([
        { op: 'add', path: 'members', value: ids.slice(0, size).map((value) => ({ value, display: value })) },
      ]);
      const removeAll = await timed([{ op: 'remove', path: 'members' }]);
      lines.push(`${size} members: add ${add.toFixed(0)} ms, remove all ${removeAll.toFixed(0)} ms`);
    }
    process.stdout.write(
      `\nSCIM groups, ${services ? 'PostgreSQL + Redis' : 'embedded (PGlite, in-process)'}: one PATCH each, ${lines.join('; ')}\n`,
    );
  });
});
