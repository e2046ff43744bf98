import { LlmUsage, openUnitOfWorkSql, Project, TenantTransaction, WebhookEndpoint } from '@app/database';
import { bearer, createTestApp, recordStatements, registerAndLogin, type TestApp } from '@app/testing';
import { ILike, In, IsNull, MoreThan, Not, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { containing, orderFor } from '../../apps/api/src/common/list-query';
import { ResourceSql } from '../../apps/api/src/common/resource-sql';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;

/** Project's columns as TypeORM's find selects them, under their property names. */
const PROJECT_COLUMNS =
  '"id" AS "id", "created_at" AS "createdAt", "organization_id" AS "organizationId", "team_id" AS "teamId", ' +
  '"name" AS "name", "description" AS "description", "status" AS "status", "created_by" AS "createdBy", ' +
  '"updated_at" AS "updatedAt"';

/**
 * TenantResources' reads (what every generated module gets) as SQL built once from the entity's
 * metadata: one statement a page, the same rows and totals as TypeORM's find, and TypeORM's find
 * still for what the compiled reads do not cover.
 */
describe('TenantResources reads compiled from entity metadata (ResourceSql)', () => {
  let t: TestApp;
  let owner: Account;
  let orgId: string;
  let teamId: string;
  let sql: ResourceSql;

  const api = (method: 'GET' | 'POST', path: string, payload?: object, requestId?: string) =>
    t.inject({
      method,
      url: `/api/v1/organizations/${orgId}${path}`,
      headers: { ...bearer(owner.tokens.access_token), ...(requestId ? { 'x-request-id': requestId } : {}) },
      payload,
    });

  beforeAll(async () => {
    t = await createTestApp();
    owner = await registerAndLogin(t, 'resource-sql');
    const org = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(owner.tokens.access_token),
      payload: { name: 'Compiled reads' },
    });
    orgId = org.json<{ id: string }>().id;
    teamId = (await api('POST', '/teams', { name: 'Red' })).json<{ id: string }>().id;
    // Names that sort differently by case and that hold LIKE's wildcards.
    const names = ['alpha', 'Beta', 'gamma 100%', 'delta_x', 'Epsilon', 'zeta', 'eta'];
    for (const [index, name] of names.entries()) {
      const res = await api('POST', '/projects', { name, ...(index % 2 ? { teamId } : {}) });
      expect(res.statusCode).toBe(201);
    }
    const archived = (await api('GET', '/projects?q=zeta')).json<{ items: Array<{ id: string }> }>().items[0]!.id;
    expect(
      (
        await t.inject({
          method: 'PATCH',
          url: `/api/v1/organizations/${orgId}/projects/${archived}`,
          headers: bearer(owner.tokens.access_token),
          payload: { status: 'archived' },
        })
      ).statusCode,
    ).toBe(200);
    const built = ResourceSql.of(t.dataSource.getMetadata(Project));
    expect(built).not.toBeNull();
    sql = built!;
  });
  afterAll(async () => {
    await t.close();
  });

  /** A warm request's own statements (after one unrecorded request of the same kind). */
  async function statementsOf(path: string) {
    expect((await api('GET', path)).statusCode).toBe(200);
    const requestId = `rsql-${Math.random().toString(36).slice(2)}`;
    let status = 0;
    const statements = await recordStatements(
      t.dataSource,
      async () => (status = (await api('GET', path, undefined, requestId)).statusCode),
      requestId,
    );
    expect(status).toBe(200);
    return statements;
  }

  it('a page of the list is one statement: the entity’s columns, its filters, its order, the total by a window', async () => {
    const statements = await statementsOf('/projects?status=active&sort=name&pageSize=3');
    expect(statements).toEqual([
      openUnitOfWorkSql({ organizationId: orgId, system: false }),
      `SELECT ${PROJECT_COLUMNS}, count(*) OVER () AS "__total" FROM "projects" ` +
        'WHERE "organization_id" = $1 AND "status" = $2 ORDER BY "name" ASC, "id" ASC LIMIT $3 OFFSET $4',
      'COMMIT',
    ]);
  });

  it('one row by id is one statement, scoped to the organization as well as by row-level security', async () => {
    const id = (await api('GET', '/projects?pageSize=1')).json<{ items: Array<{ id: string }> }>().items[0]!.id;
    expect(await statementsOf(`/projects/${id}`)).toEqual([
      openUnitOfWorkSql({ organizationId: orgId, system: false }),
      `SELECT ${PROJECT_COLUMNS} FROM "projects" WHERE "id" = $1 AND "organization_id" = $2`,
      'COMMIT',
    ]);
  });

  it('a change reads the row by the same statement before and after writing it; the answer has the new values', async () => {
    const id = (await api('GET', '/projects?q=alpha')).json<{ items: Array<{ id: string }> }>().items[0]!.id;
    const requestId = `rsql-${Math.random().toString(36).slice(2)}`;
    let answer: { statusCode: number; json: () => unknown } | undefined;
    const statements = await recordStatements(
      t.dataSource,
      async () =>
        (answer = await t.inject({
          method: 'PATCH',
          url: `/api/v1/organizations/${orgId}/projects/${id}`,
          headers: { ...bearer(owner.tokens.access_token), 'x-request-id': requestId },
          payload: { description: 'changed' },
        })),
      requestId,
    );
    expect(answer?.statusCode).toBe(200);
    expect(answer?.json()).toMatchObject({ id, name: 'alpha', description: 'changed' });
    const byId = `SELECT ${PROJECT_COLUMNS} FROM "projects" WHERE "id" = $1 AND "organization_id" = $2`;
    expect(statements.filter((text) => text === byId)).toHaveLength(2);
    expect(statements.filter((text) => /^SELECT/.test(text) && /"projects"/.test(text) && text !== byId)).toEqual([]);
  });

  it('a page past the end counts with one statement more and still says how many there are', async () => {
    const statements = await statementsOf('/projects?page=5&pageSize=5');
    expect(statements).toHaveLength(4);
    expect(statements[2]).toBe('SELECT count(*) AS "__total" FROM "projects" WHERE "organization_id" = $1');
    expect((await api('GET', '/projects?page=5&pageSize=5')).json()).toEqual({
      items: [],
      total: 7,
      page: 5,
      pageSize: 5,
    });
  });

  describe('answers exactly what TypeORM’s find answers', () => {
    const cases: Array<[string, (teamIds: string[]) => FindOptionsWhere<Project>, string]> = [
      ['no filter, newest first', () => ({}), '-createdAt'],
      ['a status', () => ({ status: 'active' }), 'name'],
      ['one team', (teams) => ({ teamId: teams[0] }), '-name'],
      ['the teams a caller reads in', (teams) => ({ teamId: In(teams) }), 'updatedAt'],
      ['no team at all (In of nothing)', () => ({ teamId: In([]) }), 'name'],
      ['the organization’s own (IsNull)', () => ({ teamId: IsNull() }), '-updatedAt'],
      ['part of the name, with LIKE’s wildcards as text', () => ({ name: containing('100%') }), 'name'],
      ['part of the name, any case', () => ({ name: containing('ET') }), '-name'],
      ['an underscore is not a wildcard', () => ({ name: containing('a_x') }), 'name'],
      ['several at once', (teams) => ({ status: 'active', teamId: In(teams), name: ILike('%a%') }), 'createdAt'],
    ];
    const read = (manager: EntityManager, where: FindOptionsWhere<Project>, sort: string, skip: number, take: number) =>
      manager.findAndCount(Project, { where: { ...where, organizationId: orgId }, order: orderFor(sort), skip, take });

    it.each(cases)('%s', async (_label, whereOf, sort) => {
      const transactions = t.app.get(TenantTransaction);
      await transactions.run(orgId, async (manager) => {
        const where = { ...whereOf([teamId]), organizationId: orgId };
        for (const [skip, take] of [
          [0, 100],
          [0, 2],
          [2, 3],
        ] as const) {
          const [expected, expectedTotal] = await read(manager, where, sort, skip, take);
          const compiled = sql.compile(where, orderFor(sort));
          expect(compiled).not.toBeNull();
          const rows = await transactions.rows<Record<string, unknown>>(manager, compiled!.page, [
            ...compiled!.parameters,
            take,
            skip,
          ]);
          const entities = rows.map((row) => sql.entityOf<Project>(row));
          // Strict: the same class, the same own properties (undefined ones too) as TypeORM's rows.
          expect(entities).toStrictEqual(expected);
          expect(entities.every((entity) => entity instanceof Project)).toBe(true);
          if (rows[0]) expect(Number(rows[0].__total)).toBe(expectedTotal);
          const [counted] = await transactions.rows<{ __total: string }>(
            manager,
            compiled!.count,
            compiled!.parameters,
          );
          expect(Number(counted!.__total)).toBe(expectedTotal);
        }
      });
    });

    it('cases cover rows and no rows', async () => {
      const transactions = t.app.get(TenantTransaction);
      const totals = await transactions.run(orgId, async (manager) => {
        const found: number[] = [];
        for (const [, whereOf, sort] of cases) found.push((await read(manager, whereOf([teamId]), sort, 0, 1))[1]);
        return found;
      });
      expect(totals).toContain(0);
      expect(totals.filter((total) => total > 1).length).toBeGreaterThan(3);
    });
  });

  it('leaves to TypeORM what it does not cover: other operators, null, relation filters, other sorts', () => {
    expect(sql.compile({ name: MoreThan('m') }, { name: 'ASC' })).toBeNull();
    expect(sql.compile({ name: Not(ILike('%a%')) }, { name: 'ASC' })).toBeNull();
    expect(sql.compile({ teamId: null }, { name: 'ASC' })).toBeNull();
    expect(sql.compile({ organization: { name: 'x' } }, { name: 'ASC' })).toBeNull();
    expect(sql.compile({ nope: 'x' }, { name: 'ASC' })).toBeNull();
    expect(sql.compile({}, { name: 'SIDEWAYS' as 'ASC' })).toBeNull();
    expect(sql.compile({}, { organization: 'ASC' })).toBeNull();
    // TypeORM refuses an undefined filter value; left to it rather than dropped (a wider page).
    expect(sql.compile({ status: undefined }, { name: 'ASC' })).toBeNull();
  });

  it('builds no reads for entities whose values TypeORM hydrates (arrays, dates, transformers) or keys differently', () => {
    // varchar[] columns.
    expect(ResourceSql.of(t.dataSource.getMetadata(WebhookEndpoint))).toBeNull();
    // A date in a composite primary key, bigint columns with a transformer.
    expect(ResourceSql.of(t.dataSource.getMetadata(LlmUsage))).toBeNull();
  });

  it('another organization’s project is a 404 by id and absent from the list', async () => {
    const other = await registerAndLogin(t, 'resource-sql-other');
    const otherOrg = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/organizations',
        headers: bearer(other.tokens.access_token),
        payload: { name: 'Elsewhere' },
      })
    ).json<{ id: string }>().id;
    const theirs = await t.inject({
      method: 'POST',
      url: `/api/v1/organizations/${otherOrg}/projects`,
      headers: bearer(other.tokens.access_token),
      payload: { name: 'Not yours' },
    });
    const theirId = theirs.json<{ id: string }>().id;
    expect((await api('GET', `/projects/${theirId}`)).statusCode).toBe(404);
    // The statement itself is scoped to the organization, not only by row-level security: as the
    // system (which row-level security lets see every row), their project under our organization is absent.
    const transactions = t.app.get(TenantTransaction);
    const asSystem = (id: string, org: string) =>
      transactions.runAsSystem((manager) => transactions.rows(manager, sql.byIdSql, [id, org]));
    expect(await asSystem(theirId, orgId)).toEqual([]);
    expect(await asSystem(theirId, otherOrg)).toHaveLength(1);
    const mine = (await api('GET', '/projects?pageSize=100')).json<{ items: Array<{ id: string }>; total: number }>();
    expect(mine.total).toBe(7);
    expect(mine.items.map((item) => item.id)).not.toContain(theirId);
  });
});
