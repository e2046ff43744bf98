import { defineResourceEvents } from '@app/events';
import type { AuditService } from '@app/audit';
import { auditActor, type Principal } from '@app/auth';
import { newId, ValidationProblemException } from '@app/common';
import { Team, type TenantTransaction } from '@app/database';
import { ResourceAccess, type PermissionKey } from '@app/rbac';
import { Logger, NotFoundException } from '@nestjs/common';
import { In, type EntityManager, type FindOptionsWhere } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { orderFor } from './list-query';
import { skipOf, type Page } from './page-query.dto';
import { ResourceSql } from './resource-sql';
import { windowPage } from './window-page';

/** A row of one organization; `teamId` when it may belong to a team. */
export interface TenantOwned {
  id: string;
  organizationId: string;
  teamId?: string | null;
}

export interface ResourceDefinition<E extends TenantOwned> {
  entity: new () => E;
  /** Singular, for audit actions (`project.create`), audit target types and messages. */
  name: string;
  permissions: { create: PermissionKey; read: PermissionKey; update: PermissionKey; delete: PermissionKey };
  /**
   * Rows may belong to a team (a `teamId` column): team roles then count for that team's rows.
   * The controller must carry @TeamScoped().
   */
  teamScoped: boolean;
}

/**
 * The use cases every organization-owned resource has, done once and right: each in one tenant
 * transaction (row-level security applies), the audit row in the same transaction, team scope
 * checked against the row (404 for a row the caller may not see, 403 for one they may see but not
 * change), pages with a stable order. A resource's service extends it and adds what is its own.
 */
export abstract class TenantResources<E extends TenantOwned> {
  /** Built on first use (undefined until then); null: this entity reads through TypeORM's find. */
  private sql: ResourceSql | null | undefined;

  protected constructor(
    protected readonly transactions: TenantTransaction,
    protected readonly audit: AuditService,
    protected readonly definition: ResourceDefinition<E>,
  ) {
    // Its changes are domain events too: <name>.created|updated|deleted, seen with its read permission.
    defineResourceEvents(definition.name, definition.permissions.read);
  }

  /** A page of the rows the caller may read, filtered by `where`, sorted by `query.sort`. */
  protected findPage(
    orgId: string,
    query: { page: number; pageSize: number; sort: string; offset?: number },
    where: FindOptionsWhere<E> = {},
  ): Promise<Page<E>> {
    const { entity, permissions, teamScoped } = this.definition;
    return this.transactions.run(orgId, async (manager) => {
      const scoped = { ...where, organizationId: orgId } as FindOptionsWhere<E>;
      const reach = teamScoped ? ResourceAccess.reach(permissions.read) : { organization: true as const };
      const filter = reach.organization
        ? scoped
        : ({ ...scoped, teamId: this.narrow(where, reach.teamIds) } as FindOptionsWhere<E>);
      const order = orderFor(query.sort);
      const sql = this.sqlOf(manager);
      const compiled = sql?.compile(filter, order);
      if (!sql || !compiled) {
        const [items, total] = await manager.findAndCount(entity, {
          where: filter,
          order: order as never,
          skip: skipOf(query),
          take: query.pageSize,
        });
        return { items, total, page: query.page, pageSize: query.pageSize };
      }
      const { rows, total } = await windowPage<Record<string, unknown>>(
        this.transactions,
        manager,
        compiled,
        compiled.parameters,
        query.pageSize,
        skipOf(query),
      );
      return { items: rows.map((row) => sql.entityOf<E>(row)), total, page: query.page, pageSize: query.pageSize };
    });
  }

  /**
   * The entity's reads as SQL built once (ResourceSql), or null when the entity has something it
   * does not cover or a subscriber is registered (TypeORM's find then). The entity is judged once,
   * on first use, from the data source's metadata.
   */
  private sqlOf(manager: EntityManager): ResourceSql | null {
    // A subscriber may listen for afterLoad, which only TypeORM's find raises.
    if (manager.connection.subscribers.length > 0) return null;
    if (this.sql === undefined) {
      this.sql = ResourceSql.of(manager.connection.getMetadata(this.definition.entity));
      if (!this.sql) {
        new Logger(TenantResources.name).log(
          `${this.definition.name}: reads go through TypeORM's find (the entity has something the compiled reads do not cover; see resource-sql.ts)`,
        );
      }
    }
    return this.sql;
  }

  /** One row the caller may read; 404 otherwise (another organization's, or another team's). */
  protected findOne(orgId: string, id: string): Promise<E> {
    return this.transactions.run(orgId, (manager) => this.visible(manager, orgId, id));
  }

  /** Inserts the row (in the caller's team, if it names one) and audits it. */
  protected async insert(
    actor: Principal,
    orgId: string,
    values: Omit<E, 'id' | 'organizationId'> | object,
  ): Promise<E> {
    const { entity, name, permissions, teamScoped } = this.definition;
    const row = { ...values, id: newId(), organizationId: orgId } as unknown as E;
    if (teamScoped) ResourceAccess.require(permissions.create, row.teamId ?? null);
    return this.transactions.run(orgId, async (manager) => {
      if (teamScoped && row.teamId) await this.requireTeam(manager, row.teamId);
      await manager.insert(entity, row as QueryDeepPartialEntity<E>);
      await this.record(manager, actor, orgId, `${name}.create`, row.id, {});
      return this.reread(manager, orgId, row.id);
    });
  }

  /**
   * Applies `changes` (undefined fields are left alone) and audits the field names. Moving a row
   * to another team needs the update permission in both teams.
   */
  protected async change(actor: Principal, orgId: string, id: string, changes: object): Promise<E> {
    const { entity, name, permissions, teamScoped } = this.definition;
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    return this.transactions.run(orgId, async (manager) => {
      const current = await this.visible(manager, orgId, id);
      if (teamScoped) {
        ResourceAccess.require(permissions.update, current.teamId ?? null);
        if ('teamId' in defined && defined.teamId !== current.teamId) {
          const target = (defined.teamId as string | null) ?? null;
          ResourceAccess.require(permissions.update, target);
          if (target) await this.requireTeam(manager, target);
        }
      }
      if (Object.keys(defined).length > 0) {
        await manager.update(entity, { id }, defined as QueryDeepPartialEntity<E>);
      }
      await this.record(manager, actor, orgId, `${name}.update`, id, { fields: Object.keys(defined) });
      return this.reread(manager, orgId, id);
    });
  }

  /** Deletes the row and audits it. */
  protected async destroy(actor: Principal, orgId: string, id: string): Promise<void> {
    const { entity, name, permissions, teamScoped } = this.definition;
    await this.transactions.run(orgId, async (manager) => {
      const current = await this.visible(manager, orgId, id);
      if (teamScoped) ResourceAccess.require(permissions.delete, current.teamId ?? null);
      await this.record(manager, actor, orgId, `${name}.delete`, id, {});
      await manager.delete(entity, { id });
    });
  }

  /** The row as written, in the same unit of work (after an insert or update: the database's defaults and timestamps). */
  private async reread(manager: EntityManager, orgId: string, id: string): Promise<E> {
    const row = await this.byId(manager, orgId, id);
    if (!row) throw new Error(`${this.definition.name} ${id} vanished in its own unit of work`);
    return row;
  }

  /** This organization's row with that id, or null (one statement). */
  private async byId(manager: EntityManager, orgId: string, id: string): Promise<E | null> {
    const sql = this.sqlOf(manager);
    if (!sql) {
      return manager.findOneBy(this.definition.entity, { id, organizationId: orgId } as FindOptionsWhere<E>);
    }
    const [found] = await this.transactions.rows<Record<string, unknown>>(manager, sql.byIdSql, [id, orgId]);
    return found ? sql.entityOf<E>(found) : null;
  }

  /** The row, if it is this organization's and the caller may read it. */
  protected async visible(manager: EntityManager, orgId: string, id: string): Promise<E> {
    const { name, permissions, teamScoped } = this.definition;
    const row = await this.byId(manager, orgId, id);
    if (!row || (teamScoped && !ResourceAccess.allows(permissions.read, row.teamId ?? null))) {
      throw new NotFoundException(`No such ${name}.`);
    }
    return row;
  }

  protected record(
    manager: EntityManager,
    actor: Principal,
    orgId: string,
    action: string,
    targetId: string,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.record(
      {
        action,
        outcome: 'success',
        organizationId: orgId,
        ...auditActor(actor),
        targetType: this.definition.name,
        targetId,
        metadata,
      },
      manager,
    );
  }

  /** The team filter for a caller who reads only in some teams (intersected with a requested team). */
  private narrow(where: FindOptionsWhere<E>, teamIds: string[]) {
    const requested = (where as { teamId?: unknown }).teamId;
    if (typeof requested === 'string') return teamIds.includes(requested) ? requested : In([]);
    if (requested !== undefined) return In([]);
    return In(teamIds);
  }

  private async requireTeam(manager: EntityManager, teamId: string): Promise<void> {
    if (!(await manager.existsBy(Team, { id: teamId }))) {
      throw new ValidationProblemException([{ field: 'teamId', message: 'no such team in this organization' }]);
    }
  }
}
