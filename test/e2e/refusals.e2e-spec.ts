import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AuditLog, Role, SecurityEvent, TenantTransaction } from '@app/database';
import { SYSTEM_ROLES } from '@app/rbac';
import {
  bearer,
  createTestApp,
  joinByInvitation,
  registerAndLogin,
  setPlatformAdmin,
  type TestApp,
} from '@app/testing';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const METRICS_TOKEN = 'refusals-metrics-token-0123456789';

/** Every refusal of access is recorded, whichever layer refused: the guard or a service. */
describe('refusals: audited wherever they happen, probes in the security-event stream', () => {
  let t: TestApp;
  let owner: Account;
  let admin: Account;
  let orgId: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { METRICS_TOKEN } });
    owner = await registerAndLogin(t, 'refusal-owner');
    admin = await registerAndLogin(t, 'refusal-admin');
    orgId = (await call(owner, 'POST', '/organizations', { name: 'Refusing' })).json<{ id: string }>().id;
    await joinByInvitation(t, owner, orgId, admin, [SYSTEM_ROLES.admin.id]);
  });
  afterAll(async () => {
    await t.close();
  });

  function call(as: Account, method: Method, url: string, payload?: object) {
    return t.inject({ method, url: `/api/v1${url}`, headers: bearer(as.tokens.access_token), payload });
  }
  const transactions = () => t.app.get(TenantTransaction);
  const denials = (actorId: string) =>
    transactions().runAsSystem((m) =>
      m.find(AuditLog, { where: { action: 'access.denied', actorId }, order: { occurredAt: 'ASC' } }),
    );
  const events = (actorId: string) =>
    transactions().runAsSystem((m) => m.find(SecurityEvent, { where: { actorId }, order: { windowStart: 'ASC' } }));
  /**
   * Events are counted per actor and minute: a test that crosses a minute boundary sees its
   * refusals in two rows. This folds one actor's rows of one kind back into one.
   */
  const folded = async (actorId: string) => {
    const rows = await events(actorId);
    const kinds = [...new Set(rows.map((row) => row.kind))];
    expect(kinds).toHaveLength(1);
    expect(rows.length).toBeLessThanOrEqual(2);
    const last = rows[rows.length - 1];
    return {
      kind: kinds[0],
      actorType: last?.actorType,
      count: rows.reduce((sum, row) => sum + row.count, 0),
      organizationIds: [...new Set(rows.flatMap((row) => row.organizationIds))],
      lastRoute: last?.lastRoute,
    };
  };

  it("audits the services' no-escalation refusals with the permission that was missing", async () => {
    const attempts: Array<[Method, string, object | undefined]> = [
      // Removing or demoting an owner, or making oneself owner: owners carry organizations:delete.
      ['DELETE', `/organizations/${orgId}/members/${owner.userId}`, undefined],
      ['PUT', `/organizations/${orgId}/members/${owner.userId}/roles`, { roleIds: [SYSTEM_ROLES.admin.id] }],
      ['PUT', `/organizations/${orgId}/members/${admin.userId}/roles`, { roleIds: [SYSTEM_ROLES.owner.id] }],
      // A role with a permission the admin lacks; an invitation with the owner role.
      [
        'POST',
        `/organizations/${orgId}/roles`,
        { name: 'Deleter', scope: 'organization', permissions: ['organizations:delete'] },
      ],
      [
        'POST',
        `/organizations/${orgId}/invitations`,
        { email: 'new-owner@example.com', roleIds: [SYSTEM_ROLES.owner.id] },
      ],
    ];
    for (const [method, url, payload] of attempts) {
      const res = await call(admin, method, url, payload);
      expect({ url, status: res.statusCode }).toEqual({ url, status: 403 });
      expect(res.json()).toMatchObject({
        type: '/problems/permission-denied',
        missingPermissions: ['organizations:delete'],
      });
    }
    const rows = await denials(admin.userId);
    expect(rows.map((row) => [row.organizationId, row.targetId, row.metadata])).toEqual([
      [
        orgId,
        'DELETE /api/v1/organizations/:orgId/members/:userId',
        expect.objectContaining({ missingPermissions: ['organizations:delete'] }),
      ],
      [
        orgId,
        'PUT /api/v1/organizations/:orgId/members/:userId/roles',
        expect.objectContaining({ missingPermissions: ['organizations:delete'] }),
      ],
      [
        orgId,
        'PUT /api/v1/organizations/:orgId/members/:userId/roles',
        expect.objectContaining({ missingPermissions: ['organizations:delete'] }),
      ],
      [
        orgId,
        'POST /api/v1/organizations/:orgId/roles',
        expect.objectContaining({ missingPermissions: ['organizations:delete'] }),
      ],
      [
        orgId,
        'POST /api/v1/organizations/:orgId/invitations',
        expect.objectContaining({ missingPermissions: ['organizations:delete'] }),
      ],
    ]);
    // The refused work itself left nothing behind.
    expect(await transactions().run(orgId, (m) => m.countBy(Role, { name: 'Deleter' }))).toBe(0);
    expect(await folded(admin.userId)).toMatchObject({
      kind: 'permission-denied',
      count: 5,
      organizationIds: [orgId],
    });
  });

  it("audits a team admin's refusal inside the team's service the same way", async () => {
    const teamA = (await call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'Alpha' })).json<{ id: string }>()
      .id;
    const teamB = (await call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'Beta' })).json<{ id: string }>()
      .id;
    const lead = await registerAndLogin(t, 'refusal-lead');
    await joinByInvitation(t, owner, orgId, lead, [SYSTEM_ROLES.member.id]);
    const made = await call(owner, 'POST', `/organizations/${orgId}/teams/${teamA}/members`, {
      userId: lead.userId,
      roleIds: [SYSTEM_ROLES['team-admin'].id],
    });
    expect(made.statusCode).toBe(201);
    const project = await call(lead, 'POST', `/organizations/${orgId}/projects`, { name: 'Kept', teamId: teamA });
    expect(project.statusCode).toBe(201);
    const { id: projectId } = project.json<{ id: string }>();
    // Moving the project into a team the lead does not run.
    const moved = await call(lead, 'PATCH', `/organizations/${orgId}/projects/${projectId}`, { teamId: teamB });
    expect(moved.statusCode).toBe(403);
    const rows = await denials(lead.userId);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.metadata).toMatchObject({ problem: 'permission-denied' });
    expect(rows[0]?.metadata).toMatchObject({ missingPermissions: ['projects:update'] });
    expect(rows[0]?.targetId).toBe('PATCH /api/v1/organizations/:orgId/projects/:projectId');
  });

  it('counts cross-tenant probes per actor and minute, for platform admins to read, with a metric', async () => {
    const outsider = await registerAndLogin(t, 'refusal-prober');
    const foreign = (await call(outsider, 'POST', '/organizations', { name: 'Prober Inc' })).json<{ id: string }>().id;
    for (let i = 0; i < 3; i += 1) {
      const res = await call(outsider, 'GET', `/organizations/${orgId}/members`);
      expect(res.statusCode).toBe(404);
    }
    expect((await call(outsider, 'GET', `/organizations/${orgId}/teams`)).statusCode).toBe(404);
    // Its own organization answers as usual and adds nothing.
    expect((await call(outsider, 'GET', `/organizations/${foreign}/members`)).statusCode).toBe(200);
    expect(await folded(outsider.userId)).toEqual({
      kind: 'cross-tenant-probe',
      actorType: 'user',
      count: 4,
      organizationIds: [orgId],
      lastRoute: 'GET /api/v1/organizations/:orgId/teams',
    });
    // Not written to the probed organization's audit log.
    expect(await denials(outsider.userId)).toEqual([]);

    // An API key of the outsider's organization, pointed at ours: the same stream.
    const { key, id: keyId } = (
      await call(outsider, 'POST', `/organizations/${foreign}/api-keys`, { name: 'probe', permissions: ['teams:read'] })
    ).json<{ key: string; id: string }>();
    const keyed = await t.inject({ method: 'GET', url: `/api/v1/organizations/${orgId}/teams`, headers: bearer(key) });
    expect(keyed.statusCode).toBe(404);
    expect(await events(keyId)).toEqual([
      expect.objectContaining({ kind: 'cross-tenant-probe', actorType: 'api_key' }),
    ]);

    // Reading the stream is for platform admins; asking without being one is itself a refusal.
    expect((await call(outsider, 'GET', '/admin/security-events')).statusCode).toBe(403);
    const operator = await registerAndLogin(t, 'refusal-operator');
    await setPlatformAdmin(t, operator.userId);
    const page = await call(
      operator,
      'GET',
      `/admin/security-events?kind=cross-tenant-probe&actorId=${outsider.userId}`,
    );
    expect(page.statusCode).toBe(200);
    const listed = page.json<{ total: number; items: Array<{ count: number; organizationIds: string[] }> }>();
    // One row per minute: one, or two if the probes above straddled a minute boundary.
    expect(listed.total).toBe(listed.items.length);
    expect(listed.items.reduce((sum, item) => sum + item.count, 0)).toBe(4);
    expect(listed.items.map((item) => item.organizationIds)).toEqual(listed.items.map(() => [orgId]));
    expect((await call(operator, 'GET', '/admin/security-events?kind=nope&since=yesterday')).statusCode).toBe(400);
    const mine = await call(
      operator,
      'GET',
      `/admin/security-events?kind=permission-denied&actorId=${outsider.userId}`,
    );
    expect(mine.json()).toMatchObject({
      total: 1,
      items: [{ count: 1, lastRoute: 'GET /api/v1/admin/security-events' }],
    });

    const metrics = await t.inject({ method: 'GET', url: '/metrics', headers: bearer(METRICS_TOKEN) });
    expect(metrics.body).toMatch(/security_events_total\{kind="cross-tenant-probe"\} [1-9]/);
  });

  it('bounds the rows: a flood of probes from one actor stays one row a minute', async () => {
    const flooder = await registerAndLogin(t, 'refusal-flooder');
    const others = await Promise.all(
      Array.from(
        { length: 25 },
        async (_, i) =>
          (await call(owner, 'POST', '/organizations', { name: `Target ${i}` })).json<{ id: string }>().id,
      ),
    );
    for (const target of others) await call(flooder, 'GET', `/organizations/${target}/members`);
    const rows = await events(flooder.userId);
    // One row (two if the loop crossed a minute boundary), 25 counted, 20 organizations remembered.
    expect(rows.length).toBeLessThanOrEqual(2);
    expect(rows.reduce((sum, row) => sum + row.count, 0)).toBe(25);
    expect(Math.max(...rows.map((row) => row.organizationIds.length))).toBeLessThanOrEqual(20);
  });

  it('ships alert rules and a Grafana dashboard that name only metrics the api exports', async () => {
    const file = parse(readFileSync(join(__dirname, '../../deploy/prometheus/alerts.yaml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
    };
    const rules = file.groups.flatMap((group) => group.rules);
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'CrossTenantProbing',
        'HighErrorRate',
        'SlowRequests',
        'RateLimiterStoreFailing',
        'AuditChainBroken',
        'QueueBacklog',
        'DeadLettersGrowing',
        'OutboxLagging',
      ]),
    );
    const dashboard = JSON.parse(readFileSync(join(__dirname, '../../deploy/grafana/saas-backend.json'), 'utf8')) as {
      uid: string;
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    expect(dashboard.uid).toBe('saas-backend');
    const queries = [
      ...rules.map((rule) => ({ what: `alert ${rule.alert}`, expr: rule.expr })),
      ...dashboard.panels.flatMap((panel) =>
        panel.targets.map((target) => ({ what: `panel ${panel.title}`, expr: target.expr })),
      ),
    ];
    const exported = (await t.inject({ method: 'GET', url: '/metrics', headers: bearer(METRICS_TOKEN) })).body;
    for (const { what, expr } of queries) {
      // A histogram's series carry suffixes; its TYPE line names the histogram.
      const names = [...expr.matchAll(/\b([a-z_]+)\{/g)].map((match) => match[1]?.replace(/_(bucket|count|sum)$/, ''));
      expect(names.length).toBeGreaterThan(0);
      for (const name of names)
        expect({ what, name, exported: exported.includes(`# TYPE ${name} `) }).toEqual({ what, name, exported: true });
    }
  });
});
