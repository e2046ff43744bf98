import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '@app/config';
import { AuditLog, SecurityEvent, TenantTransaction } from '@app/database';
import { IS_PUBLIC } from '@app/auth';
import { OWN_ACCOUNT, PLATFORM_ADMIN_ONLY, REQUIRED_PERMISSIONS, SYSTEM_ROLES } from '@app/rbac';
import { DiscoveryService } from '@nestjs/core';
import { getIntrospectionQuery } from 'graphql';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import {
  bearer,
  createTestApp,
  joinByInvitation,
  recordStatements,
  registerAndLogin,
  type TestApp,
} from '@app/testing';
import type { DataSource } from 'typeorm';
import { readAllowList } from '../../apps/api/src/graphql/persisted-queries';
import { SCHEMA_FILE, schemaText } from '../../apps/api/src/graphql/schema-file';
import { TENANT_SCOPED_RESOLVER } from '../../apps/api/src/graphql/tenant-scope';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;

interface GraphqlError {
  message: string;
  path?: string[];
  extensions: Record<string, unknown>;
}
interface GraphqlAnswer {
  data?: Record<string, unknown> | null;
  errors?: GraphqlError[];
}

/** How many SQL statements `work` sends (on behalf of `requestId`, if given): see recordStatements. */
async function countStatements(
  dataSource: DataSource,
  work: () => Promise<unknown>,
  requestId?: string,
): Promise<number> {
  return (await recordStatements(dataSource, work, requestId)).length;
}

describe('GraphQL: the same authentication, permissions and tenancy as REST', () => {
  let t: TestApp;
  let owner: Account;
  let orgId: string;
  let otherOwner: Account;
  let otherOrgId: string;
  let otherTeamId: string;

  const gql = async (
    as: Account | string | undefined,
    query: string,
    variables?: Record<string, unknown>,
    requestId?: string,
  ) => {
    const token = typeof as === 'string' ? as : as?.tokens.access_token;
    const res = await t.inject({
      method: 'POST',
      url: '/graphql',
      headers: { ...(token ? bearer(token) : {}), ...(requestId ? { 'x-request-id': requestId } : {}) },
      payload: { query, variables },
    });
    return { status: res.statusCode, body: res.json<GraphqlAnswer>() };
  };
  const rest = (as: Account, method: 'GET' | 'POST', url: string, payload?: object) =>
    t.inject({ method, url: `/api/v1${url}`, headers: bearer(as.tokens.access_token), payload });
  const firstError = (body: GraphqlAnswer) => body.errors?.[0];

  beforeAll(async () => {
    t = await createTestApp();
    owner = await registerAndLogin(t, 'gql-owner');
    orgId = (await rest(owner, 'POST', '/organizations', { name: 'Graph Inc' })).json<{ id: string }>().id;
    otherOwner = await registerAndLogin(t, 'gql-other');
    otherOrgId = (await rest(otherOwner, 'POST', '/organizations', { name: 'Other Co' })).json<{ id: string }>().id;
    otherTeamId = (await rest(otherOwner, 'POST', `/organizations/${otherOrgId}/teams`, { name: 'Secret' })).json<{
      id: string;
    }>().id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers the viewer and their organizations, with cursors', async () => {
    const { status, body } = await gql(
      owner,
      '{ viewer { id email organizations(first: 1) { totalCount pageInfo { hasNextPage } edges { node { id name } } } } }',
    );
    expect(status).toBe(200);
    expect(body).toEqual({
      data: {
        viewer: {
          id: owner.userId,
          email: owner.email,
          organizations: {
            totalCount: 1,
            pageInfo: { hasNextPage: false },
            edges: [{ node: { id: orgId, name: 'Graph Inc' } }],
          },
        },
      },
    });
  });

  it('creates, reads, renames and deletes a team, auditing each change as REST does', async () => {
    const created = await gql(
      owner,
      'mutation($o: ID!) { createTeam(orgId: $o, input: { name: "Core" }) { id name slug organizationId } }',
      { o: orgId },
    );
    expect(created.body.errors).toBeUndefined();
    const team = created.body.data?.createTeam as { id: string; slug: string; organizationId: string };
    expect(team.slug).toMatch(/^core/);
    expect(team.organizationId).toBe(orgId);

    const { body } = await gql(
      owner,
      'query($o: ID!) { organization(orgId: $o) { name teams(first: 10) { totalCount edges { node { id name members { email roles { name } } } } } } }',
      { o: orgId },
    );
    expect(body).toEqual({
      data: {
        organization: {
          name: 'Graph Inc',
          teams: {
            totalCount: 1,
            edges: [
              {
                node: { id: team.id, name: 'Core', members: [{ email: owner.email, roles: [{ name: 'team-admin' }] }] },
              },
            ],
          },
        },
      },
    });

    const renamed = await gql(
      owner,
      'mutation($o: ID!, $t: ID!) { updateTeam(orgId: $o, teamId: $t, input: { name: "Kernel" }) { name } }',
      { o: orgId, t: team.id },
    );
    expect(renamed.body).toEqual({ data: { updateTeam: { name: 'Kernel' } } });
    const deleted = await gql(owner, 'mutation($o: ID!, $t: ID!) { deleteTeam(orgId: $o, teamId: $t) }', {
      o: orgId,
      t: team.id,
    });
    expect(deleted.body).toEqual({ data: { deleteTeam: team.id } });

    const actions = await t.app
      .get(TenantTransaction)
      .run(orgId, (m) => m.find(AuditLog, { where: { targetId: team.id }, order: { occurredAt: 'ASC' } }));
    expect(actions.map((row) => [row.action, row.actorId])).toEqual([
      ['team.create', owner.userId],
      ['team.update', owner.userId],
      ['team.delete', owner.userId],
    ]);
  });

  it('changes roles, projects, invitations, members and API keys through mutations, and reads them back', async () => {
    /** The operation's one root field, which must have succeeded. */
    const run = async <T = { id: string; status?: string }>(
      query: string,
      variables: Record<string, unknown>,
    ): Promise<T> => {
      const { body } = await gql(owner, query, { o: orgId, ...variables });
      expect({ query, errors: body.errors }).toEqual({ query, errors: undefined });
      return Object.values(body.data ?? {})[0] as T;
    };
    const role = await run(
      'mutation($o: ID!) { createRole(orgId: $o, input: { name: " auditor ", scope: "organization", permissions: ["audit-logs:read"] }) { id name permissions } }',
      {},
    );
    // The REST DTO's transforms and rules apply: the name is trimmed.
    expect(role).toMatchObject({ name: 'auditor', permissions: ['audit-logs:read'] });
    const renamed = await run(
      'mutation($o: ID!, $r: ID!) { updateRole(orgId: $o, roleId: $r, input: { name: "reader" }) { name } }',
      {
        r: role.id,
      },
    );
    expect(renamed).toEqual({ name: 'reader' });

    const project = await run(
      'mutation($o: ID!) { createProject(orgId: $o, input: { name: "Atlas" }) { id status } }',
      {},
    );
    expect(project.status).toBe('active');
    await run(
      'mutation($o: ID!, $p: ID!) { updateProject(orgId: $o, projectId: $p, input: { status: "archived" }) { id } }',
      {
        p: project.id,
      },
    );

    const invitation = await run(
      'mutation($o: ID!) { inviteMember(orgId: $o, input: { email: "Guest@Example.com" }) { id email status } }',
      {},
    );
    expect(invitation).toMatchObject({ email: 'guest@example.com', status: 'pending' });

    const created = await run<{ key: string; apiKey: { id: string; prefix: string } }>(
      'mutation($o: ID!) { createApiKey(orgId: $o, input: { name: "ci", permissions: ["projects:read"] }) { key apiKey { id prefix status } } }',
      {},
    );
    expect(created.key.startsWith(created.apiKey.prefix)).toBe(true);

    type Listing = { edges: Array<{ node: Record<string, unknown> }> };
    const organization = await run<{ roles: unknown[]; projects: Listing; invitations: Listing; apiKeys: Listing }>(
      `query($o: ID!) { organization(orgId: $o) {
        roles { name isSystem }
        projects { totalCount edges { node { name status } } }
        invitations { edges { node { email } } }
        apiKeys { edges { node { id name prefix permissions } } }
      } }`,
      {},
    );
    expect(organization.roles).toContainEqual({ name: 'reader', isSystem: false });
    expect(organization.projects.edges.map((edge) => edge.node)).toContainEqual({ name: 'Atlas', status: 'archived' });
    expect(organization.invitations.edges.map((edge) => edge.node)).toContainEqual({ email: 'guest@example.com' });
    // The secret is shown once: the listing has the key's metadata only.
    expect(organization.apiKeys.edges.map((edge) => edge.node)).toContainEqual({
      id: created.apiKey.id,
      name: 'ci',
      prefix: created.apiKey.prefix,
      permissions: ['projects:read'],
    });
    expect(JSON.stringify(organization)).not.toContain(created.key);

    await run('mutation($o: ID!, $k: ID!) { revokeApiKey(orgId: $o, apiKeyId: $k) }', { k: created.apiKey.id });
    await run('mutation($o: ID!, $i: ID!) { revokeInvitation(orgId: $o, invitationId: $i) }', { i: invitation.id });
    await run('mutation($o: ID!, $p: ID!) { deleteProject(orgId: $o, projectId: $p) }', { p: project.id });
    await run('mutation($o: ID!, $r: ID!) { deleteRole(orgId: $o, roleId: $r) }', { r: role.id });
    const key = await t.inject({
      method: 'GET',
      url: `/api/v1/organizations/${orgId}/projects`,
      headers: bearer(created.key),
    });
    expect(key.statusCode).toBe(401);

    // The audit log saw each change, newest first, with cursors to page on.
    const page = async (after?: string) =>
      (
        await run<{
          auditLog: {
            edges: Array<{ cursor: string; node: { action: string; actorId: string } }>;
            pageInfo: { hasNextPage: boolean; endCursor: string };
          };
        }>(
          'query($o: ID!, $a: String) { organization(orgId: $o) { auditLog(first: 2, after: $a, filter: { action: "role.*" }) { edges { cursor node { action actorId } } pageInfo { hasNextPage endCursor } } } }',
          { a: after },
        )
      ).auditLog;
    const first = await page();
    expect(first.edges.map((edge) => edge.node.action)).toEqual(['role.delete', 'role.update']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await page(first.pageInfo.endCursor);
    expect(second.edges.map((edge) => edge.node)).toEqual([{ action: 'role.create', actorId: owner.userId }]);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  it('refuses the unauthenticated and a bad token, without data', async () => {
    const anonymous = await gql(undefined, '{ viewer { id } }');
    expect(anonymous.body.data).toBeNull();
    expect(firstError(anonymous.body)?.extensions.code).toBe('UNAUTHENTICATED');
    const forged = await gql('not-a-token', '{ viewer { id } }');
    expect(firstError(forged.body)).toMatchObject({
      message: 'The access token or API key is invalid, expired or revoked.',
      extensions: { code: 'UNAUTHENTICATED', status: 401 },
    });
  });

  it('never shows one tenant another: queries and mutations across organizations are NOT_FOUND', async () => {
    const probe = await gql(owner, 'query($o: ID!) { organization(orgId: $o) { name } }', { o: otherOrgId });
    expect(probe.body.data).toEqual({ organization: null });
    expect(firstError(probe.body)?.extensions.code).toBe('NOT_FOUND');

    // Another organization's team through one's own organization: row-level security hides it.
    const viaOwn = await gql(
      owner,
      'query($o: ID!, $t: ID!) { organization(orgId: $o) { team(teamId: $t) { name } } }',
      {
        o: orgId,
        t: otherTeamId,
      },
    );
    expect(viaOwn.body.data).toEqual({ organization: { team: null } });
    expect(firstError(viaOwn.body)?.extensions.code).toBe('NOT_FOUND');
    for (const [mutation, vars] of [
      ['mutation($o: ID!) { createTeam(orgId: $o, input: { name: "Intruder" }) { id } }', { o: otherOrgId }],
      [
        'mutation($o: ID!, $t: ID!) { updateTeam(orgId: $o, teamId: $t, input: { name: "Mine" }) { id } }',
        { o: otherOrgId, t: otherTeamId },
      ],
      [
        'mutation($o: ID!, $t: ID!) { updateTeam(orgId: $o, teamId: $t, input: { name: "Mine" }) { id } }',
        { o: orgId, t: otherTeamId },
      ],
      ['mutation($o: ID!, $t: ID!) { deleteTeam(orgId: $o, teamId: $t) }', { o: orgId, t: otherTeamId }],
    ] as const) {
      const refused = await gql(owner, mutation, vars);
      expect({ mutation, code: firstError(refused.body)?.extensions.code }).toEqual({ mutation, code: 'NOT_FOUND' });
    }
    const untouched = await rest(otherOwner, 'GET', `/organizations/${otherOrgId}/teams/${otherTeamId}`);
    expect(untouched.json()).toMatchObject({ name: 'Secret' });

    const events = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(SecurityEvent, { where: { actorId: owner.userId, kind: 'cross-tenant-probe' } }));
    expect(events.reduce((sum, event) => sum + event.count, 0)).toBeGreaterThanOrEqual(3);
  });

  it('refuses a member without the permission (FORBIDDEN, the missing permission named, audited) and keeps the rest of the answer', async () => {
    const viewer = await registerAndLogin(t, 'gql-viewer');
    await joinByInvitation(t, owner, orgId, viewer, [SYSTEM_ROLES.viewer.id]);
    const denied = await gql(viewer, 'mutation($o: ID!) { createTeam(orgId: $o, input: { name: "No" }) { id } }', {
      o: orgId,
    });
    expect(firstError(denied.body)).toMatchObject({
      path: ['createTeam'],
      extensions: { code: 'FORBIDDEN', missingPermissions: ['teams:create'], type: '/problems/permission-denied' },
    });
    const rows = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { action: 'access.denied', actorId: viewer.userId } }));
    expect(rows).toEqual([
      expect.objectContaining({
        organizationId: orgId,
        outcome: 'denied',
        targetId: 'POST /graphql Mutation.createTeam',
        metadata: expect.objectContaining({ missingPermissions: ['teams:create'] }) as unknown,
      }),
    ]);

    // The same refusal many times over in one request (aliases, lists) is recorded once.
    const repeated = await gql(
      viewer,
      'query($o: ID!) { a: organization(orgId: $o) { apiKeys { totalCount } } b: organization(orgId: $o) { apiKeys { totalCount } } }',
      { o: orgId },
    );
    expect(repeated.body.errors?.map((error) => error.extensions.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    const keyRefusals = await t.app.get(TenantTransaction).runAsSystem((m) =>
      m.find(AuditLog, {
        where: { action: 'access.denied', actorId: viewer.userId, targetId: 'POST /graphql Organization.apiKeys' },
      }),
    );
    expect(keyRefusals).toHaveLength(1);

    // Partial data: what the viewer may read comes back beside the field they may not.
    const partial = await gql(viewer, 'query($o: ID!) { organization(orgId: $o) { name members { totalCount } } }', {
      o: orgId,
    });
    expect(partial.body.data).toEqual({ organization: { name: 'Graph Inc', members: { totalCount: 2 } } });
  });

  it('takes API keys on organization fields, in their own organization only, and never as a viewer', async () => {
    const created = await rest(owner, 'POST', `/organizations/${orgId}/api-keys`, {
      name: 'dashboard',
      permissions: ['organizations:read', 'teams:read'],
    });
    expect(created.statusCode).toBe(201);
    const key = created.json<{ key: string }>().key;
    const own = await gql(key, 'query($o: ID!) { organization(orgId: $o) { name teams { totalCount } } }', {
      o: orgId,
    });
    expect(own.body.errors).toBeUndefined();
    expect(own.body.data).toMatchObject({ organization: { name: 'Graph Inc' } });
    const elsewhere = await gql(key, 'query($o: ID!) { organization(orgId: $o) { name } }', { o: otherOrgId });
    expect(firstError(elsewhere.body)?.extensions.code).toBe('NOT_FOUND');
    const notGiven = await gql(key, 'query($o: ID!) { organization(orgId: $o) { members { totalCount } } }', {
      o: orgId,
    });
    expect(firstError(notGiven.body)?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      missingPermissions: ['members:read'],
    });
    const asViewer = await gql(key, '{ viewer { id } }');
    expect(firstError(asViewer.body)?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      type: '/problems/api-key-not-allowed',
    });
  });

  it('answers bad input with BAD_USER_INPUT naming the field, and changes nothing', async () => {
    const before = (await rest(owner, 'GET', `/organizations/${orgId}/teams`)).json<{ total: number }>().total;
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['query($o: ID!) { organization(orgId: $o) { name } }', { o: 'not-a-uuid' }, 'orgId'],
      ['query($o: ID!) { organization(orgId: $o) { teams(first: 1000) { totalCount } } }', { o: orgId }, 'first'],
      ['query($o: ID!) { organization(orgId: $o) { teams(after: "bm9wZQ") { totalCount } } }', { o: orgId }, 'after'],
      ['mutation($o: ID!) { createTeam(orgId: $o, input: { name: "   " }) { id } }', { o: orgId }, 'name'],
      [
        'mutation($o: ID!) { createTeam(orgId: $o, input: { name: "Ok", slug: "Not A Slug" }) { id } }',
        { o: orgId },
        'slug',
      ],
    ];
    for (const [query, variables, field] of cases) {
      const { status, body } = await gql(owner, query, variables);
      const error = firstError(body);
      expect({ query, status, code: error?.extensions.code }).toEqual({ query, status: 200, code: 'BAD_USER_INPUT' });
      expect(JSON.stringify(error?.extensions.errors)).toContain(`"field":"${field}"`);
    }
    // A variable of the wrong type never reaches a resolver.
    const wrongType = await gql(owner, 'query($n: Int) { viewer { organizations(first: $n) { totalCount } } }', {
      n: 'ten',
    });
    expect(wrongType.status).toBe(400);
    expect(firstError(wrongType.body)?.extensions.code).toBe('BAD_USER_INPUT');
    expect((await rest(owner, 'GET', `/organizations/${orgId}/teams`)).json<{ total: number }>().total).toBe(before);
  });

  it('refuses a too costly operation before running it, and never shows a stack trace', async () => {
    const costly = await gql(
      owner,
      '{ viewer { organizations(first: 100) { edges { node { teams(first: 100) { edges { node { name members { email } } } } } } } } }',
    );
    expect(costly.status).toBe(400);
    expect(firstError(costly.body)?.extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', maxCost: 25000 });
    expect(JSON.stringify(costly.body)).not.toMatch(/at .*\.(js|ts):\d+/);

    // Refused before any SQL: not even the caller's session is looked up.
    const floods = [
      // 40 aliases of one field: over GRAPHQL_MAX_ALIASES (30).
      [`{ ${Array.from({ length: 40 }, (_, i) => `v${i}: viewer { id }`).join(' ')} }`, 'QUERY_TOO_MANY_ALIASES'],
      // 2,000 aliases (about 12,000 tokens in 38 KB): over GRAPHQL_MAX_TOKENS, refused while parsing.
      [`{ ${Array.from({ length: 2_000 }, (_, i) => `v${i}: viewer { id }`).join(' ')} }`, 'GRAPHQL_VALIDATION_FAILED'],
      // A batch of operations in one request.
      [undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ] as const;
    // The counter sees a request's own statements (a query that runs does send some).
    const served = `served-${Date.now()}`;
    const seen = await countStatements(
      t.dataSource,
      () =>
        t.inject({
          method: 'POST',
          url: '/graphql',
          headers: { ...bearer(owner.tokens.access_token), 'x-request-id': served },
          payload: { query: '{ viewer { id email } }' },
        }),
      served,
    );
    expect(seen).toBeGreaterThan(0);
    for (const [index, [query, code]] of floods.entries()) {
      let answer: { status: number; body: GraphqlAnswer } | undefined;
      const requestId = `flood-${index}-${Date.now()}`;
      const statements = await countStatements(
        t.dataSource,
        async () => {
          const res = await t.inject({
            method: 'POST',
            url: '/graphql',
            headers: { ...bearer(owner.tokens.access_token), 'x-request-id': requestId },
            payload:
              query === undefined ? [{ query: '{ viewer { id } }' }, { query: '{ viewer { email } }' }] : { query },
          });
          answer = { status: res.statusCode, body: res.json<GraphqlAnswer>() };
        },
        requestId,
      );
      expect({
        code,
        status: answer?.status,
        first: firstError(answer?.body ?? {})?.extensions.code,
        statements,
      }).toEqual({
        code,
        status: 400,
        first: code,
        statements: 0,
      });
    }

    // A document over GRAPHQL_BODY_LIMIT_BYTES (64 KiB), even one that would parse (a long comment).
    const long = await gql(owner, `{ viewer { id } }\n#${'x'.repeat(70_000)}`);
    expect(long.status).toBe(413);
    expect(firstError(long.body)?.extensions.code).toBe('PAYLOAD_TOO_LARGE');

    // Fragments spread twice at every level (2^30 fields unfolded): measured once each, refused at once.
    const fragments = Array.from(
      { length: 30 },
      (_, i) => `fragment F${i} on Viewer { ${i === 29 ? 'id' : `...F${i + 1} ...F${i + 1}`} }`,
    ).join(' ');
    const doubling = await gql(owner, `{ viewer { organizations(first: 100) { totalCount } ...F0 } } ${fragments}`);
    expect(doubling.status).toBe(400);
    // The costliest operation of the document counts, whatever name the request gives.
    const named = await t.inject({
      method: 'POST',
      url: '/graphql?operationName=Cheap',
      headers: bearer(owner.tokens.access_token),
      payload: {
        query:
          'query Costly { viewer { organizations(first: 100) { edges { node { teams(first: 100) { edges { node { members { email } } } } } } } } }',
      },
    });
    expect(named.json<GraphqlAnswer>().errors?.[0]?.extensions.code).toBe('QUERY_TOO_COSTLY');
    // A variable's default is the page size it stands for.
    const defaulted = await gql(
      owner,
      'query($n: Int = 100) { viewer { organizations(first: $n) { edges { node { teams(first: $n) { edges { node { members { email } } } } } } } } }',
    );
    expect(firstError(defaulted.body)?.extensions.code).toBe('QUERY_TOO_COSTLY');
    // Lists nested in introspection beyond what schema tools ask for; the tools' own query passes.
    const nested = await gql(
      owner,
      '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }',
    );
    expect(firstError(nested.body)?.extensions.code).toBe('QUERY_TOO_DEEP');
    const introspection = await gql(owner, getIntrospectionQuery());
    expect(introspection.body.errors).toBeUndefined();
    // A syntax tree sent as JSON (mercurius would read one when the text does not parse): refused.
    const tree = await gql(
      owner,
      JSON.stringify({
        kind: 'Document',
        definitions: [
          {
            kind: 'OperationDefinition',
            operation: 'query',
            selectionSet: { kind: 'SelectionSet', selections: [{ kind: 'Field' }] },
          },
        ],
      }),
    );
    expect({ status: tree.status, code: firstError(tree.body)?.extensions.code }).toEqual({
      status: 400,
      code: 'GRAPHQL_VALIDATION_FAILED',
    });

    const syntax = await gql(owner, '{ viewer { id ');
    expect(syntax.status).toBe(400);
    expect(firstError(syntax.body)?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('reads an organization of many teams and their members in a fixed number of SQL statements', async () => {
    const query =
      'query($o: ID!, $n: Int) { organization(orgId: $o) { teams(first: $n) { edges { node { name members { email roles { name } } } } } } }';
    // A full page each time (a page and its total are one statement; an empty page past the end
    // would add a count). Only the request's own statements count: the outbox relay and the audit
    // writer run beside it.
    let measured = 0;
    const measure = async (teams: number) => {
      let answer: GraphqlAnswer | undefined;
      measured += 1;
      const requestId = `teams-${teams}-${measured}-${Date.now()}`;
      const statements = await countStatements(
        t.dataSource,
        async () => {
          answer = (await gql(owner, query, { o: orgId, n: teams }, requestId)).body;
        },
        requestId,
      );
      expect(answer?.errors).toBeUndefined();
      const edges = (answer?.data?.organization as { teams: { edges: Array<{ node: { members: unknown[] } }> } }).teams
        .edges;
      expect(edges).toHaveLength(teams);
      expect(edges.every((edge) => edge.node.members.length === 1)).toBe(true);
      return statements;
    };
    const addTeams = async (count: number) => {
      for (let i = 0; i < count; i += 1) {
        const res = await rest(owner, 'POST', `/organizations/${orgId}/teams`, { name: `Batch ${Date.now()} ${i}` });
        expect(res.statusCode).toBe(201);
      }
    };
    const existing = (await rest(owner, 'GET', `/organizations/${orgId}/teams`)).json<{ total: number }>().total;
    // Warm: once the caller's membership is cached (as for any request after the first) the count
    // is steady. The teams just created change the owner's roles, and the resulting invalidations
    // arrive after their commits, so wait for two equal counts in a row.
    const steady = async (teams: number) => {
      let last = await measure(teams);
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const next = await measure(teams);
        if (next === last) return next;
        last = next;
      }
      throw new Error(`no steady statement count for ${teams} teams (last ${last})`);
    };
    await addTeams(2 - existing);
    const withTwo = await steady(2);
    await addTeams(18);
    const withTwenty = await steady(20);
    expect(withTwenty).toBe(withTwo);
    // Counted by request id: a count that lost its attribution would be 0 and pass the bound below.
    expect(withTwo).toBeGreaterThanOrEqual(4);
    // The organization, the teams page (rows and total in one statement), their members with their
    // roles (one statement for all the teams), each unit of work opened and committed: 9, not
    // 20 × anything.
    expect(withTwenty).toBeLessThanOrEqual(9);
  });

  it('lists every query, mutation and field resolver with its access rule, and refuses a field that names none', () => {
    const inventory: string[] = [];
    for (const wrapper of t.app.get(DiscoveryService).getProviders()) {
      const type = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!type?.prototype || !wrapper.instance) continue;
      const prototype = type.prototype as object;
      const resolvers = Object.getOwnPropertyNames(prototype).flatMap((name) => {
        const method: unknown = Object.getOwnPropertyDescriptor(prototype, name)?.value;
        if (name === 'constructor' || typeof method !== 'function') return [];
        // Set (to the field's name, or undefined when it is the method's) by @Query, @Mutation, @ResolveField.
        if (!Reflect.hasMetadata('graphql:resolver_name', method)) return [];
        const field = (Reflect.getMetadata('graphql:resolver_name', method) as string | undefined) ?? name;
        return [{ method, field }];
      });
      if (resolvers.length === 0) continue;
      // Every resolver class runs its fields in their granted scope (ApiResolver).
      expect({ resolver: type.name, scoped: Reflect.getMetadata(TENANT_SCOPED_RESOLVER, type) as unknown }).toEqual({
        resolver: type.name,
        scoped: true,
      });
      for (const { method, field } of resolvers) {
        const kind = (Reflect.getMetadata('graphql:resolver_type', method) as string | undefined) ?? 'field';
        const permissions = Reflect.getMetadata(REQUIRED_PERMISSIONS, method) as string[] | undefined;
        const access = Reflect.getMetadata(IS_PUBLIC, method)
          ? 'public'
          : permissions
            ? `permissions: ${permissions.join(', ')}`
            : Reflect.getMetadata(PLATFORM_ADMIN_ONLY, method)
              ? 'platform admins'
              : Reflect.getMetadata(OWN_ACCOUNT, method)
                ? 'signed-in user, own account'
                : 'UNDECLARED';
        inventory.push(`${kind} ${type.name}.${field} -> ${access}`);
      }
    }
    expect(inventory.length).toBeGreaterThanOrEqual(9);
    expect(inventory.sort()).toMatchSnapshot();
    expect(inventory.filter((line) => line.endsWith('UNDECLARED'))).toEqual([]);
  });

  it('serves the schema committed in apps/api/schema.graphql (npm run graphql:schema rewrites it)', () => {
    const running = schemaText(t.app.get(GraphQLSchemaHost).schema);
    expect(running).toBe(readFileSync(SCHEMA_FILE, 'utf8'));
  });
});

describe('GraphQL in production', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        NODE_ENV: 'production',
        DOCS_ENABLED: 'false',
        APP_URL: 'https://api.example.com',
        GRAPHQL_MAX_DEPTH: '4',
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses introspection and serves no GraphiQL', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/graphql',
      payload: { query: '{ __schema { types { name } } }' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<GraphqlAnswer>().errors?.[0]?.message).toMatch(/introspection/i);
    expect((await t.inject({ method: 'GET', url: '/graphiql' })).statusCode).toBe(404);
  });

  it('refuses an operation deeper than GRAPHQL_MAX_DEPTH before running it', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/graphql',
      payload: { query: '{ viewer { organizations(first: 1) { edges { node { id } } } } }' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<GraphqlAnswer>().errors?.map((error) => error.extensions)).toEqual([
      expect.objectContaining({ code: 'QUERY_TOO_DEEP', depth: 5, maxDepth: 4 }),
    ]);
  });
});

describe('GraphQL rate limits and persisted queries', () => {
  const ALLOWED = '{ viewer { id } }';
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  let allowListFile: string;
  const apps: TestApp[] = [];
  const boot = async (env: Record<string, string>) => {
    const app = await createTestApp({ env });
    apps.push(app);
    return { app, owner: await registerAndLogin(app, 'gql-limits') };
  };
  const post = (app: TestApp, token: string, payload: object) =>
    app.inject({ method: 'POST', url: '/graphql', headers: bearer(token), payload });

  beforeAll(() => {
    allowListFile = join(mkdtempSync(join(tmpdir(), 'gql-allow-')), 'operations.json');
    writeFileSync(allowListFile, JSON.stringify([ALLOWED]));
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('counts an operation against the rate limit by its cost, and refuses it when the limit is spent', async () => {
    const { app, owner } = await boot({ RATE_LIMIT_PER_MINUTE: '60', GRAPHQL_COST_PER_REQUEST: '100' });
    const token = owner.tokens.access_token;
    const cheap = await post(app, token, { query: '{ viewer { id } }' });
    const before = Number(cheap.headers['ratelimit-remaining']);
    const costly = await post(app, token, {
      query: '{ viewer { organizations(first: 20) { edges { node { id name slug createdAt } } } } }',
    });
    expect(costly.json<GraphqlAnswer>().errors).toBeUndefined();
    const after = Number(costly.headers['ratelimit-remaining']);
    // viewer 10 + organizations 10 + 20 rows × (edges 1 + node 1 + 4 fields) = 140 → 2 requests' worth.
    expect(before - after).toBe(2);
    let refused: GraphqlAnswer | undefined;
    for (let i = 0; i < 40 && !refused; i += 1) {
      const res = await post(app, token, {
        query: '{ viewer { organizations(first: 20) { edges { node { id name slug createdAt } } } } }',
      });
      const body = res.json<GraphqlAnswer>();
      if (body.errors) refused = body;
    }
    expect(refused?.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
  });

  it('runs only allow-listed documents, by SHA-256 or whole, with GRAPHQL_PERSISTED_QUERIES=allow-list', async () => {
    const { app, owner } = await boot({
      GRAPHQL_PERSISTED_QUERIES: 'allow-list',
      GRAPHQL_ALLOWED_OPERATIONS_FILE: allowListFile,
    });
    const token = owner.tokens.access_token;
    const byHash = await post(app, token, {
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256(ALLOWED) } },
    });
    expect(byHash.json()).toEqual({ data: { viewer: { id: owner.userId } } });
    expect((await post(app, token, { query: ALLOWED })).json()).toEqual({ data: { viewer: { id: owner.userId } } });
    const other = await post(app, token, { query: '{ viewer { id email } }' });
    expect(other.statusCode).toBe(400);
    expect(other.json<GraphqlAnswer>().errors?.[0]).toMatchObject({
      message: expect.stringContaining('allow-list') as unknown,
      extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
    });
  });

  it('refuses to start with an allow-list that is missing or wrong', () => {
    expect(() =>
      AppConfig.fromEnv({ NODE_ENV: 'test', GRAPHQL_PERSISTED_QUERIES: 'allow-list', JWT_SECRET: 'x'.repeat(40) }),
    ).toThrow(/GRAPHQL_ALLOWED_OPERATIONS_FILE: is required/);
    const wrong = join(mkdtempSync(join(tmpdir(), 'gql-allow-')), 'operations.json');
    writeFileSync(wrong, JSON.stringify({ ['0'.repeat(64)]: ALLOWED }));
    expect(() => readAllowList(wrong)).toThrow(/is not the SHA-256 of its document/);
    expect(() => readAllowList(join(tmpdir(), 'no-such-allow-list.json'))).toThrow(/not readable JSON/);
  });

  it('counts every request to /graphql against its address, even one that never reaches a field', async () => {
    const { app } = await boot({ RATE_LIMIT_PER_MINUTE: '2' });
    const statuses: number[] = [];
    for (let i = 0; i < 21; i += 1) {
      const res = await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ viewer { id ' } });
      statuses.push(res.statusCode);
    }
    // Twenty (ten times the general limit) pass to GraphQL, which refuses the broken document.
    expect(statuses.slice(0, 20).every((status) => status === 400)).toBe(true);
    expect(statuses[20]).toBe(429);
  });

  it("speaks Apollo's automatic persisted queries with GRAPHQL_PERSISTED_QUERIES=automatic", async () => {
    const { app, owner } = await boot({ GRAPHQL_PERSISTED_QUERIES: 'automatic' });
    const token = owner.tokens.access_token;
    const query = '{ viewer { email } }';
    const persistedQuery = { version: 1, sha256Hash: sha256(query) };
    const unknown = await post(app, token, { extensions: { persistedQuery } });
    expect(unknown.json<GraphqlAnswer>().errors?.[0]).toMatchObject({
      message: 'PersistedQueryNotFound',
      extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
    });
    expect((await post(app, token, { query, extensions: { persistedQuery } })).json()).toEqual({
      data: { viewer: { email: owner.email } },
    });
    expect((await post(app, token, { extensions: { persistedQuery } })).json()).toEqual({
      data: { viewer: { email: owner.email } },
    });
    const mismatch = await post(app, token, { query: '{ viewer { id } }', extensions: { persistedQuery } });
    expect(mismatch.json<GraphqlAnswer>().errors?.[0]?.extensions.code).toBe('PERSISTED_QUERY_MISMATCH');
  });
});
