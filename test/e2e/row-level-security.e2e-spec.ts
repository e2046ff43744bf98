import { isUniqueViolation, newId } from '@app/common';
import { AuditLog, Organization, OrganizationMember, Role, Team, TeamMember, TenantTransaction } from '@app/database';
import { TENANT_TABLES } from '@app/migrations';
import { createTestApp, createTwoTenants, type TestApp, type TwoTenants } from '@app/testing';
import { QueryFailedError, type EntityManager, type EntitySubscriberInterface, type QueryRunner } from 'typeorm';

/** Tenant isolation enforced by PostgreSQL itself, on whichever database this run uses. */
describe('row-level security', () => {
  let t: TestApp;
  let tx: TenantTransaction;
  let tenants: TwoTenants;

  beforeAll(async () => {
    t = await createTestApp();
    tx = t.app.get(TenantTransaction);
    tenants = await createTwoTenants(tx);
  });
  afterAll(async () => {
    await t.close();
  });

  it('runs tenant work as the non-superuser app_user role', async () => {
    const [row] = await tx.run(tenants.a.organization.id, (manager) =>
      manager.query<Array<{ role: string; org: string; bypass: boolean }>>(
        `SELECT current_user AS role, current_setting('app.org_id') AS org,
                (SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user) AS bypass`,
      ),
    );
    expect(row).toEqual({ role: 'app_user', org: tenants.a.organization.id, bypass: false });
  });

  it('enables and forces RLS on every tenant-owned table', async () => {
    const rows = await t.dataSource.query<
      Array<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>
    >(`SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY($1) AND relkind = 'r'`, [
      [...TENANT_TABLES],
    ]);
    expect(rows).toHaveLength(TENANT_TABLES.length);
    for (const row of rows) expect(row).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
  });

  it('shows no tenant rows when no tenant is set', async () => {
    const counts = await tx.runWithoutTenant(async (manager) => {
      const result: Record<string, number> = {};
      for (const table of TENANT_TABLES) {
        const [row] = await manager.query<Array<{ count: string }>>(`SELECT count(*)::text AS count FROM "${table}"`);
        result[table] = Number(row?.count);
      }
      return result;
    });
    for (const table of TENANT_TABLES) {
      // System roles (no organization) are the only rows everyone may read.
      if (table === 'roles' || table === 'role_permissions') continue;
      expect({ table, count: counts[table] }).toEqual({ table, count: 0 });
    }
  });

  it("shows tenant A only A's rows, even when the query asks for everything", async () => {
    const seen = await tx.run(tenants.a.organization.id, async (manager) => ({
      organizations: await manager.find(Organization),
      teams: await manager.find(Team),
      members: await manager.find(OrganizationMember),
      teamMembers: await manager.find(TeamMember),
    }));
    expect(seen.organizations.map((o) => o.id)).toEqual([tenants.a.organization.id]);
    expect(seen.teams.map((team) => team.id)).toEqual([tenants.a.team.id]);
    expect(new Set(seen.members.map((m) => m.organizationId))).toEqual(new Set([tenants.a.organization.id]));
    expect(seen.members).toHaveLength(2);
    expect(seen.teamMembers.map((m) => m.teamId)).toEqual([tenants.a.team.id]);
  });

  it("cannot read B's row by id from A's context", async () => {
    const found = await tx.run(tenants.a.organization.id, (manager) =>
      manager.findOne(Team, { where: { id: tenants.b.team.id } }),
    );
    expect(found).toBeNull();
  });

  it("cannot update or delete B's rows from A's context", async () => {
    const outcome = await tx.run(tenants.a.organization.id, async (manager) => ({
      updated: await manager.update(Team, { id: tenants.b.team.id }, { name: 'hijacked' }),
      deleted: await manager.delete(OrganizationMember, { organizationId: tenants.b.organization.id }),
      renamedOrg: await manager.update(Organization, { id: tenants.b.organization.id }, { name: 'hijacked' }),
    }));
    expect(outcome.updated.affected).toBe(0);
    expect(outcome.deleted.affected).toBe(0);
    expect(outcome.renamedOrg.affected).toBe(0);
    const team = await tx.run(tenants.b.organization.id, (manager) =>
      manager.findOneByOrFail(Team, { id: tenants.b.team.id }),
    );
    expect(team.name).toBe('Team b');
  });

  it("cannot insert a row into B from A's context, and the failed unit leaves nothing", async () => {
    const attempt = tx.run(tenants.a.organization.id, async (manager) => {
      await manager.insert(Team, {
        id: newId(),
        organizationId: tenants.a.organization.id,
        name: 'ok',
        slug: 'ok-first',
      });
      await manager.insert(Team, {
        id: newId(),
        organizationId: tenants.b.organization.id,
        name: 'evil',
        slug: 'evil',
      });
    });
    await expect(attempt).rejects.toThrow(/row-level security/);
    const slugs = await tx.runAsSystem(async (manager) => (await manager.find(Team)).map((team) => team.slug));
    expect(slugs).not.toContain('evil');
    // The whole unit of work rolled back, including the row that was allowed.
    expect(slugs).not.toContain('ok-first');
  });

  it('cannot move a row of A into B', async () => {
    const attempt = tx.run(tenants.a.organization.id, (manager) =>
      manager.update(Team, { id: tenants.a.team.id }, { organizationId: tenants.b.organization.id }),
    );
    await expect(attempt).rejects.toThrow(/row-level security/);
  });

  it('lets every tenant read system roles but none change them', async () => {
    const systemRole = await tx.runAsSystem((manager) =>
      manager.save(
        Object.assign(new Role(), {
          id: newId(),
          organizationId: null,
          name: `sys-${newId().slice(-6)}`,
          scope: 'organization',
          isSystem: true,
        }),
      ),
    );
    const seen = await tx.run(tenants.a.organization.id, (manager) => manager.findOneBy(Role, { id: systemRole.id }));
    expect(seen?.id).toBe(systemRole.id);
    const changed = await tx.run(tenants.a.organization.id, (manager) =>
      manager.update(Role, { id: systemRole.id }, { name: 'owned' }),
    );
    expect(changed.affected).toBe(0);
  });

  it('keeps the audit log append-only for the application role', async () => {
    const orgId = tenants.a.organization.id;
    const id = newId();
    await tx.run(orgId, (manager) =>
      manager.insert(AuditLog, {
        id,
        organizationId: orgId,
        actorType: 'system',
        action: 'test.write',
        outcome: 'success',
      }),
    );
    await expect(tx.run(orgId, (manager) => manager.update(AuditLog, { id }, { action: 'tampered' }))).rejects.toThrow(
      /permission denied/,
    );
    await expect(tx.run(orgId, (manager) => manager.delete(AuditLog, { id }))).rejects.toThrow(/permission denied/);
    await expect(
      tx.run(orgId, (manager) =>
        manager.insert(AuditLog, {
          id: newId(),
          organizationId: tenants.b.organization.id,
          actorType: 'system',
          action: 'x',
          outcome: 'success',
        }),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('refuses to switch tenant inside a unit of work', async () => {
    const attempt = tx.run(tenants.a.organization.id, () =>
      tx.run(tenants.b.organization.id, (manager) => manager.find(Team)),
    );
    await expect(attempt).rejects.toThrow(/cannot switch tenant/);
  });

  it('joins the open unit of work for the same tenant instead of opening a second transaction', async () => {
    const ids = await tx.run(tenants.a.organization.id, async (outer) => {
      const [first] = await outer.query<Array<{ id: string }>>('SELECT txid_current()::text AS id');
      const [second] = await tx.run(tenants.a.organization.id, (inner) =>
        inner.query<Array<{ id: string }>>('SELECT txid_current()::text AS id'),
      );
      return [first?.id, second?.id];
    });
    expect(ids[0]).toBeDefined();
    expect(ids[0]).toBe(ids[1]);
  });

  it('uses a savepoint for manager.transaction() inside a unit of work, and rolls only that back', async () => {
    const name = `savepoint-${newId()}`;
    const outcome = await tx.run(tenants.a.organization.id, async (manager) => {
      await manager.update(Team, { id: tenants.a.team.id }, { description: name });
      await manager
        .transaction(async (inner) => {
          await inner.update(Team, { id: tenants.a.team.id }, { description: 'inner change' });
          throw new Error('inner failure');
        })
        .catch(() => undefined);
      const [state] = await manager.query<Array<{ description: string; role: string }>>(
        `SELECT (SELECT description FROM teams WHERE id = $1) AS description, current_user AS role`,
        [tenants.a.team.id],
      );
      return state;
    });
    expect(outcome).toEqual({ description: name, role: 'app_user' });
    const saved = await tx.run(tenants.a.organization.id, (manager) =>
      manager.findOneBy(Team, { id: tenants.a.team.id }),
    );
    expect(saved?.description).toBe(name);
  });

  it('rolls back a failed unit of work and hands back a clean connection', async () => {
    const before = await tx.run(tenants.a.organization.id, (manager) =>
      manager.findOneBy(Team, { id: tenants.a.team.id }),
    );
    await expect(
      tx.run(tenants.a.organization.id, async (manager) => {
        await manager.update(Team, { id: tenants.a.team.id }, { description: 'never committed' });
        await manager.query('SELECT 1/0');
      }),
    ).rejects.toThrow(/division by zero/);
    // Every pooled connection afterwards is outside any transaction, as the pool's owner.
    const states = await Promise.all(
      Array.from({ length: 8 }, () =>
        t.dataSource.query<Array<{ role: string; open: boolean }>>(
          `SELECT current_user AS role, now() <> statement_timestamp() AS open`,
        ),
      ),
    );
    for (const [state] of states) {
      expect(state?.role).not.toBe('app_user');
      expect(state?.open).toBe(false);
    }
    const after = await tx.run(tenants.a.organization.id, (manager) =>
      manager.findOneBy(Team, { id: tenants.a.team.id }),
    );
    expect(after?.description).toBe(before?.description);
  });

  it("sends a unit of work's open and commit through TypeORM once a subscriber is registered", async () => {
    const heard: string[] = [];
    const subscriber: EntitySubscriberInterface = {
      beforeQuery: (event) => void (event.query.startsWith('START TRANSACTION') && heard.push('open')),
      beforeTransactionCommit: () => void heard.push('before commit'),
      afterTransactionCommit: () => void heard.push('after commit'),
    };
    const direct = await tx.run(tenants.a.organization.id, (manager) => manager.find(Team));
    expect(direct.length).toBeGreaterThan(0);
    t.dataSource.subscribers.push(subscriber);
    try {
      const name = `subscribed-${newId()}`;
      await tx.run(tenants.a.organization.id, (manager) =>
        manager.update(Team, { id: tenants.a.team.id }, { description: name }),
      );
      expect(heard).toEqual(['open', 'before commit', 'after commit']);
      const [row] = await tx.run(tenants.a.organization.id, (manager) =>
        manager.query<Array<{ description: string }>>('SELECT description FROM teams WHERE id = $1', [
          tenants.a.team.id,
        ]),
      );
      expect(row?.description).toBe(name);
    } finally {
      t.dataSource.subscribers.splice(t.dataSource.subscribers.indexOf(subscriber), 1);
    }
  });

  it('reads rows straight from the connection under the same tenant, and through TypeORM once a subscriber listens', async () => {
    const sql = 'SELECT id FROM teams ORDER BY id';
    const [own, viaTypeorm] = await tx.run(tenants.a.organization.id, async (manager) => [
      await tx.rows<{ id: string }>(manager, sql, []),
      await manager.query<Array<{ id: string }>>(sql),
    ]);
    expect(own).toEqual(viaTypeorm);
    expect(own.map((row) => row.id)).toContain(tenants.a.team.id);
    // Row-level security holds on the direct path: tenant B's team is not there.
    const [other] = await tx.run(tenants.a.organization.id, (manager) =>
      tx.rows<{ n: number }>(manager, 'SELECT count(*)::int AS n FROM teams WHERE id = $1', [tenants.b.team.id]),
    );
    expect(other?.n).toBe(0);
    // A failure is TypeORM's QueryFailedError, with the driver's error, on either path.
    const failed = await tx
      .run(tenants.a.organization.id, (manager) => tx.rows(manager, 'SELECT * FROM no_such_table', []))
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(failed).toBeInstanceOf(QueryFailedError);
    expect((failed as QueryFailedError).driverError).toMatchObject({ code: '42P01' });
    // Which path it took: TypeORM's runner.query, or the connection itself.
    const pathOf = async (manager: EntityManager) => {
      const runner = manager.queryRunner as QueryRunner;
      const query = runner.query.bind(runner);
      let viaTypeorm = 0;
      runner.query = ((...args: Parameters<QueryRunner['query']>) => {
        viaTypeorm += 1;
        return query(...args);
      }) as QueryRunner['query'];
      await tx.rows(manager, sql, []);
      return viaTypeorm;
    };
    expect(await tx.run(tenants.a.organization.id, pathOf)).toBe(0);
    const heard: string[] = [];
    const subscriber: EntitySubscriberInterface = { beforeQuery: (event) => void heard.push(event.query) };
    t.dataSource.subscribers.push(subscriber);
    try {
      expect(await tx.run(tenants.a.organization.id, pathOf)).toBe(1);
      expect(heard).toContain(sql);
    } finally {
      t.dataSource.subscribers.splice(t.dataSource.subscribers.indexOf(subscriber), 1);
    }
  });

  it('reports a failing COMMIT as TypeORM would, and hands back a clean connection', async () => {
    // A deferred unique constraint is checked at COMMIT: the one statement of a unit of work that
    // fails after all of its work succeeded.
    const attempt = tx.run(tenants.a.organization.id, async (manager) => {
      await manager.query(
        'CREATE TEMP TABLE deferred_check (id int, UNIQUE (id) DEFERRABLE INITIALLY DEFERRED) ON COMMIT DROP',
      );
      await manager.query('INSERT INTO deferred_check VALUES (1), (1)');
    });
    const error = await attempt.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(QueryFailedError);
    expect(isUniqueViolation(error)).toBe(true);
    const [row] = await tx.run(tenants.a.organization.id, (manager) =>
      manager.query<Array<{ org: string }>>(`SELECT current_setting('app.org_id') AS org`),
    );
    expect(row?.org).toBe(tenants.a.organization.id);
  });

  it('refuses a tenant id that is not a UUID', async () => {
    await expect(tx.run("x' OR '1'='1", (manager) => manager.find(Team))).rejects.toThrow(/UUID/);
  });

  it('enforces that team members belong to the organization of the team', async () => {
    const attempt = tx.runAsSystem((manager) =>
      manager.insert(TeamMember, {
        id: newId(),
        organizationId: tenants.a.organization.id,
        teamId: tenants.a.team.id,
        userId: tenants.outsider.id,
      }),
    );
    await expect(attempt).rejects.toThrow(/foreign key/);
  });

  it('treats emails as unique whatever their case', async () => {
    const attempt = tx.runAsSystem((manager) =>
      manager.insert('users', { id: newId(), email: tenants.a.owner.email.toUpperCase() }),
    );
    await expect(attempt).rejects.toThrow(/users_email_lower_key/);
  });
});
