import { AuditService } from '@app/audit';
import type { UserPrincipal } from '@app/auth';
import { cleanDisplayName, isUniqueViolation, isUuid, newId, slugify, ValidationProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { ScimGroup, TenantTransaction } from '@app/database';
import { PermissionResolver, SYSTEM_ROLES } from '@app/rbac';
import { Injectable, NotFoundException } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { MembersService } from '../members/members.service';
import type { ScimPrincipal } from './scim-access';
import { scimError } from './scim-errors';
import { groupFilterSql } from './scim-filter';
import { joinTeam, leaveTeam, lockDirectory, syncGroupRoles } from './scim-group-membership';
import { memberIds, readGroupPatch, type GroupPatch } from './scim-patch-group';
import { scimBaseUrl } from './scim-tokens.service';
import { LIST_SCHEMA, projection, type ScimListQuery } from './scim-users.service';
import { checkVersion, etagOf, positive, scimActor, text } from './scim-values';

export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const MAX_COUNT = 200;
/** Member entries one page of a Groups list carries at most (beyond its first group). */
const MEMBERS_PER_PAGE = 10_000;
/** Above this many people touched, the whole organization's permission cache is dropped instead. */
const INVALIDATE_EACH_UP_TO = 100;

interface GroupRow {
  id: string;
  teamId: string;
  displayName: string;
  externalId: string | null;
  roleId: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

interface GroupMemberView {
  value: string;
  display: string;
}

/** A SCIM Group as an administrator sees it in the api (with the role it maps to). */
export interface ScimGroupView {
  id: string;
  displayName: string;
  externalId: string | null;
  teamId: string;
  roleId: string | null;
  members: number;
  updatedAt: Date;
}

/**
 * SCIM Groups of one organization (RFC 7643 §4.2): each is a team. The IdP's member list is kept as
 * it says (scim_group_members); the team holds the active ones with the team-member role, and an
 * organization role the group maps to (set by an administrator) follows membership. A PATCH of up
 * to 10,000 member values is one transaction of batched statements. Every change is audited with the
 * SCIM token as the actor.
 */
@Injectable()
export class ScimGroupsService {
  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly members: MembersService,
    private readonly permissions: PermissionResolver,
    private readonly audit: AuditService,
  ) {}

  async list(orgId: string, query: ScimListQuery): Promise<Record<string, unknown>> {
    const startIndex = positive(query.startIndex, 1, 'startIndex');
    const count = Math.min(positive(query.count, 100, 'count', true), MAX_COUNT);
    const params: unknown[] = [orgId];
    const where = query.filter ? ` AND ${groupFilterSql(query.filter, params)}` : '';
    const project = projection(query, 'group');
    const withMembers = project({ members: true }).members === true;
    const { rows, total, members } = await this.transactions.run(orgId, async (manager) => {
      const from = `FROM scim_groups sg WHERE sg.organization_id = $1${where}`;
      const totals = await manager.query<Array<{ total: string }>>(`SELECT count(*) AS total ${from}`, params);
      const found =
        count === 0
          ? []
          : (
              await manager.query<Array<Record<string, unknown>>>(
                `SELECT sg.* ${from} ORDER BY sg.created_at, sg.id OFFSET ${startIndex - 1} LIMIT ${count}`,
                params,
              )
            ).map(fromSql);
      // With member lists, a page holds groups up to MEMBERS_PER_PAGE members in all (at least one
      // group): RFC 7644 lets a page be shorter than `count`, and the IdP pages on by itemsPerPage.
      let page = found;
      if (withMembers && found.length > 1) {
        const sizes = await manager.query<Array<{ group_id: string; n: string }>>(
          'SELECT group_id, count(*) AS n FROM scim_group_members WHERE group_id = ANY($1::uuid[]) GROUP BY group_id',
          [found.map((row) => row.id)],
        );
        const size = new Map(sizes.map((row) => [row.group_id, Number(row.n)]));
        let sum = 0;
        const kept = found.findIndex((row, index) => {
          sum += size.get(row.id) ?? 0;
          return index > 0 && sum > MEMBERS_PER_PAGE;
        });
        if (kept > 0) page = found.slice(0, kept);
      }
      const listed = withMembers
        ? await this.membersOf(
            manager,
            page.map((row) => row.id),
          )
        : new Map<string, GroupMemberView[]>();
      return { rows: page, total: Number(totals[0]?.total ?? 0), members: listed };
    });
    return {
      schemas: [LIST_SCHEMA],
      totalResults: total,
      startIndex,
      itemsPerPage: rows.length,
      Resources: rows.map((row) => project(this.resource(orgId, row, members.get(row.id)))),
    };
  }

  async get(orgId: string, id: string, query: ScimListQuery = {}): Promise<Record<string, unknown>> {
    const project = projection(query, 'group');
    const withMembers = project({ members: true }).members === true;
    const { row, members } = await this.transactions.run(orgId, async (manager) => {
      const found = await this.find(manager, orgId, id);
      return {
        row: found,
        members: withMembers ? await this.membersOf(manager, [found.id]) : new Map<string, GroupMemberView[]>(),
      };
    });
    return project(this.resource(orgId, row, members.get(row.id)));
  }

  async create(actor: ScimPrincipal, orgId: string, body: unknown): Promise<Record<string, unknown>> {
    const fields = readGroup(body);
    const ids = fields.members ?? [];
    const { row, touched } = await this.run(orgId, async (manager) => {
      await lockDirectory(manager, orgId);
      await this.assertUnique(manager, orgId, fields.displayName, fields.externalId, undefined);
      await this.assertUsers(manager, orgId, ids);
      const teamId = newId();
      await manager.query(
        'INSERT INTO teams (id, organization_id, name, slug, description) VALUES ($1, $2, $3, $4, NULL)',
        [teamId, orgId, fields.displayName, `${slugify(fields.displayName, 'team')}-${randomBytes(3).toString('hex')}`],
      );
      const id = newId();
      await manager.insert(ScimGroup, {
        id,
        organizationId: orgId,
        teamId,
        displayName: fields.displayName,
        externalId: fields.externalId,
        roleId: null,
        version: 1,
      });
      const added = await this.addMembers(manager, orgId, id, teamId, ids);
      await this.audit.change(manager, 'scim.group.create', orgId, scimActor(actor), ['team', teamId], {
        scimId: id,
        displayName: fields.displayName,
        externalId: fields.externalId,
        members: ids.length,
      });
      return { row: await this.find(manager, orgId, id), touched: added };
    });
    await this.invalidate(orgId, touched);
    return this.get(orgId, row.id);
  }

  /** PUT: the name, external id and whole member list as given. */
  async replace(
    actor: ScimPrincipal,
    orgId: string,
    id: string,
    body: unknown,
    ifMatch: string | undefined,
  ): Promise<Record<string, unknown>> {
    const fields = readGroup(body);
    await this.change(actor, orgId, id, ifMatch, {
      displayName: fields.displayName,
      externalId: fields.externalId,
      ...(fields.members === undefined
        ? { replaceAll: false, add: new Set<string>(), remove: new Set<string>() }
        : { replaceAll: true, add: new Set(fields.members), remove: new Set<string>() }),
    });
    return this.get(orgId, id);
  }

  /** PATCH: answered 204 with the new ETag (RFC 7644 §3.5.2 allows it), so a 10,000-member group is not echoed. */
  async patch(
    actor: ScimPrincipal,
    orgId: string,
    id: string,
    body: unknown,
    ifMatch: string | undefined,
  ): Promise<string> {
    return this.change(actor, orgId, id, ifMatch, readGroupPatch(body));
  }

  async remove(actor: ScimPrincipal, orgId: string, id: string, ifMatch: string | undefined): Promise<void> {
    const touched = await this.run(orgId, async (manager) => {
      await lockDirectory(manager, orgId);
      const group = await this.find(manager, orgId, id, true);
      checkVersion(group, ifMatch);
      const listed = await this.memberIdsOf(manager, group.id);
      if (listed.length > 0) await this.assertTokenMayMap(manager, actor, orgId, group.roleId);
      const left = await leaveTeam(manager, orgId, group.teamId, listed);
      await manager.delete(ScimGroup, { id: group.id });
      const users = await this.userIdsOf(manager, orgId, listed);
      const roles = await syncGroupRoles(manager, orgId, users);
      // The team goes with the group unless work hangs off it: projects are never deleted by an IdP.
      // The team row is locked first, so a project cannot be added between the check and the delete.
      await manager.query('SELECT 1 FROM teams WHERE id = $1 FOR UPDATE', [group.teamId]);
      const projects = await manager.query<unknown[]>('SELECT 1 FROM projects WHERE team_id = $1 LIMIT 1', [
        group.teamId,
      ]);
      if (projects.length === 0) await manager.query('DELETE FROM teams WHERE id = $1', [group.teamId]);
      await this.audit.change(manager, 'scim.group.delete', orgId, scimActor(actor), ['team', group.teamId], {
        scimId: group.id,
        displayName: group.displayName,
        membersRemoved: left.length,
        teamDeleted: projects.length === 0,
        ...(roles.revoked > 0 ? { rolesRevoked: roles.revoked } : {}),
      });
      return users;
    });
    await this.invalidate(orgId, touched);
  }

  /** For administrators: the organization's groups, with the role each maps to. */
  listForAdmin(orgId: string): Promise<ScimGroupView[]> {
    return this.transactions.run(orgId, async (manager) => {
      const rows = await manager.query<Array<Record<string, unknown>>>(
        `SELECT sg.*, (SELECT count(*) FROM scim_group_members m WHERE m.group_id = sg.id) AS members
           FROM scim_groups sg WHERE sg.organization_id = $1 ORDER BY sg.created_at, sg.id`,
        [orgId],
      );
      return rows.map((raw) => {
        const row = fromSql(raw);
        return {
          id: row.id,
          displayName: row.displayName,
          externalId: row.externalId,
          teamId: row.teamId,
          roleId: row.roleId,
          members: Number(raw.members),
          updatedAt: row.updatedAt,
        };
      });
    });
  }

  /**
   * An administrator maps a group to an organization role (or stops, with null): its active
   * members hold the role while they are in it. The administrator must be able to grant the role;
   * owner and member are not mappable (ownership is given by hand, and every member holds member).
   */
  async setRole(actor: UserPrincipal, orgId: string, id: string, roleId: string | null): Promise<ScimGroupView> {
    if (roleId === SYSTEM_ROLES.owner.id || roleId === SYSTEM_ROLES.member.id) {
      throw new ValidationProblemException([
        { field: 'roleId', message: 'owner and member cannot be mapped: ownership is given by hand' },
      ]);
    }
    const touched = await this.transactions.run(orgId, async (manager) => {
      await lockDirectory(manager, orgId);
      const rows = await manager.query<Array<Record<string, unknown>>>(
        'SELECT * FROM scim_groups WHERE id = $1 AND organization_id = $2 FOR UPDATE',
        [id, orgId],
      );
      if (!rows[0]) throw new NotFoundException('No such SCIM group.');
      const group = fromSql(rows[0]);
      if (group.roleId === roleId) return [];
      await this.members.assertGrantable(
        manager,
        actor.userId,
        orgId,
        [roleId, group.roleId].filter((role): role is string => role !== null),
      );
      await manager.query(
        'UPDATE scim_groups SET role_id = $2, version = version + 1, updated_at = now() WHERE id = $1',
        [id, roleId],
      );
      const users = await this.userIdsOf(manager, orgId, await this.memberIdsOf(manager, id));
      const roles = await syncGroupRoles(manager, orgId, users);
      await this.audit.change(
        manager,
        'scim.group.role.set',
        orgId,
        { actorId: actor.userId },
        ['team', group.teamId],
        {
          scimId: id,
          roleId,
          previousRoleId: group.roleId,
          ...roles,
        },
      );
      return users;
    });
    await this.invalidate(orgId, touched);
    const view = (await this.listForAdmin(orgId)).find((group) => group.id === id);
    if (!view) throw new NotFoundException('No such SCIM group.');
    return view;
  }

  /** PUT and PATCH: one transaction; returns the new ETag. */
  private async change(
    actor: ScimPrincipal,
    orgId: string,
    id: string,
    ifMatch: string | undefined,
    patch: GroupPatch,
  ): Promise<string> {
    const { version, touched } = await this.run(orgId, async (manager) => {
      await lockDirectory(manager, orgId);
      const group = await this.find(manager, orgId, id, true);
      checkVersion(group, ifMatch);
      const displayName = patch.displayName === undefined ? group.displayName : checkedName(patch.displayName);
      const externalId = patch.externalId === undefined ? group.externalId : text(patch.externalId, 'externalId', 255);
      const renamed = displayName !== group.displayName;
      if (renamed || externalId !== group.externalId) {
        await this.assertUnique(manager, orgId, displayName, externalId, group.id);
      }
      // The whole list only for a replacement; otherwise just which of the named ids are listed now
      // (Okta removes one member per request: that must not read a 10,000-member list).
      const current = patch.replaceAll
        ? await this.memberIdsOf(manager, group.id)
        : await this.listedAmong(manager, group.id, [...patch.add, ...patch.remove]);
      const currentSet = new Set(current);
      const removing = patch.replaceAll
        ? current.filter((member) => !patch.add.has(member))
        : [...patch.remove].filter((member) => currentSet.has(member));
      const adding = [...patch.add].filter((member) => !currentSet.has(member));
      await this.assertUsers(manager, orgId, adding);
      if (adding.length > 0 || removing.length > 0) await this.assertTokenMayMap(manager, actor, orgId, group.roleId);
      const changed = [
        ...(renamed ? ['displayName'] : []),
        ...(externalId !== group.externalId ? ['externalId'] : []),
        ...(adding.length > 0 || removing.length > 0 ? ['members'] : []),
      ];
      if (changed.length === 0) return { version: group.version, touched: [] };
      if (removing.length > 0) {
        for (let i = 0; i < removing.length; i += 2_000) {
          await manager.query('DELETE FROM scim_group_members WHERE group_id = $1 AND scim_user_id = ANY($2::uuid[])', [
            group.id,
            removing.slice(i, i + 2_000),
          ]);
        }
        await leaveTeam(manager, orgId, group.teamId, removing);
      }
      await this.addMembers(manager, orgId, group.id, group.teamId, adding);
      await manager.query(
        `UPDATE scim_groups SET display_name = $2, external_id = $3, version = version + 1, updated_at = now()
          WHERE id = $1`,
        [group.id, displayName, externalId],
      );
      if (renamed) await manager.query('UPDATE teams SET name = $2 WHERE id = $1', [group.teamId, displayName]);
      // Everyone added (already in the team by hand or not) and removed: mapped roles follow the list.
      const users = await this.userIdsOf(manager, orgId, [...adding, ...removing]);
      const roles = group.roleId ? await syncGroupRoles(manager, orgId, users) : { granted: 0, revoked: 0 };
      await this.audit.change(manager, 'scim.group.update', orgId, scimActor(actor), ['team', group.teamId], {
        scimId: group.id,
        changed,
        ...(renamed ? { displayName } : {}),
        ...(adding.length > 0 ? { membersAdded: adding.length, added: adding.slice(0, 50) } : {}),
        ...(removing.length > 0 ? { membersRemoved: removing.length, removed: removing.slice(0, 50) } : {}),
        ...(roles.granted + roles.revoked > 0 ? roles : {}),
      });
      return { version: group.version + 1, touched: users };
    });
    await this.invalidate(orgId, touched);
    return etagOf({ version });
  }

  /** Lists the SCIM users in the group and puts the active ones in its team; returns the user ids that joined. */
  private async addMembers(
    manager: EntityManager,
    orgId: string,
    groupId: string,
    teamId: string,
    scimUserIds: readonly string[],
  ): Promise<string[]> {
    if (scimUserIds.length === 0) return [];
    for (let i = 0; i < scimUserIds.length; i += 2_000) {
      await manager.query(
        `INSERT INTO scim_group_members (group_id, scim_user_id, organization_id)
         SELECT $1, id, $2 FROM unnest($3::uuid[]) AS t(id) ON CONFLICT DO NOTHING`,
        [groupId, orgId, scimUserIds.slice(i, i + 2_000)],
      );
    }
    return joinTeam(manager, orgId, teamId, scimUserIds);
  }

  /**
   * A token changes who holds a mapped role only within its creator's authority (like the members
   * API): a role its creator could not grant is neither granted nor taken back through their token.
   */
  private async assertTokenMayMap(
    manager: EntityManager,
    actor: ScimPrincipal,
    orgId: string,
    roleId: string | null,
  ): Promise<void> {
    if (!roleId) return;
    if (!actor.createdByUserId) throw scimError(403, undefined, 'This token has no creator to act for.');
    await this.members.assertGrantable(manager, actor.createdByUserId, orgId, [roleId]);
  }

  /** Which of `ids` the group lists now. */
  private async listedAmong(manager: EntityManager, groupId: string, ids: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += 2_000) {
      const rows = await manager.query<Array<{ scim_user_id: string }>>(
        'SELECT scim_user_id FROM scim_group_members WHERE group_id = $1 AND scim_user_id = ANY($2::uuid[])',
        [groupId, ids.slice(i, i + 2_000)],
      );
      out.push(...rows.map((row) => row.scim_user_id));
    }
    return out;
  }

  /** Every member value must be a SCIM User of this organization; nothing is applied otherwise. */
  private async assertUsers(manager: EntityManager, orgId: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += 2_000) {
      const rows = await manager.query<Array<{ id: string }>>(
        'SELECT id FROM scim_users WHERE organization_id = $1 AND id = ANY($2::uuid[])',
        [orgId, ids.slice(i, i + 2_000)],
      );
      for (const row of rows) found.add(row.id);
    }
    const unknown = ids.filter((id) => !found.has(id));
    if (unknown.length > 0) {
      throw scimError(
        400,
        'invalidValue',
        `members: no such User here: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`,
      );
    }
  }

  private async assertUnique(
    manager: EntityManager,
    orgId: string,
    displayName: string,
    externalId: string | null,
    except: string | undefined,
  ): Promise<void> {
    const clash = await manager.query<Array<{ display_name: string; external_id: string | null }>>(
      `SELECT display_name, external_id FROM scim_groups
        WHERE organization_id = $1 AND (lower(display_name) = lower($2) OR external_id = $3) AND id IS DISTINCT FROM $4`,
      [orgId, displayName, externalId, except ?? null],
    );
    if (clash.some((row) => row.display_name.toLowerCase() === displayName.toLowerCase())) {
      throw scimError(409, 'uniqueness', `A group named ${displayName} is already provisioned here.`);
    }
    if (clash.length > 0) throw scimError(409, 'uniqueness', 'externalId is already provisioned here.');
  }

  private async memberIdsOf(manager: EntityManager, groupId: string): Promise<string[]> {
    const rows = await manager.query<Array<{ scim_user_id: string }>>(
      'SELECT scim_user_id FROM scim_group_members WHERE group_id = $1',
      [groupId],
    );
    return rows.map((row) => row.scim_user_id);
  }

  private async userIdsOf(manager: EntityManager, orgId: string, scimUserIds: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < scimUserIds.length; i += 2_000) {
      const rows = await manager.query<Array<{ user_id: string }>>(
        'SELECT user_id FROM scim_users WHERE organization_id = $1 AND id = ANY($2::uuid[])',
        [orgId, scimUserIds.slice(i, i + 2_000)],
      );
      out.push(...rows.map((row) => row.user_id));
    }
    return out;
  }

  private async membersOf(manager: EntityManager, groupIds: string[]): Promise<Map<string, GroupMemberView[]>> {
    const out = new Map<string, GroupMemberView[]>();
    if (groupIds.length === 0) return out;
    const rows = await manager.query<
      Array<{ group_id: string; scim_user_id: string; user_name: string; display_name: string | null }>
    >(
      `SELECT m.group_id, m.scim_user_id, su.user_name, su.display_name
         FROM scim_group_members m JOIN scim_users su ON su.id = m.scim_user_id
        WHERE m.group_id = ANY($1::uuid[]) ORDER BY m.created_at, m.scim_user_id`,
      [groupIds],
    );
    for (const row of rows) {
      const list = out.get(row.group_id) ?? [];
      list.push({ value: row.scim_user_id, display: row.display_name ?? row.user_name });
      out.set(row.group_id, list);
    }
    return out;
  }

  private async find(manager: EntityManager, orgId: string, id: string, lock = false): Promise<GroupRow> {
    if (!isUuid(id)) throw notFound();
    const rows = await manager.query<Array<Record<string, unknown>>>(
      `SELECT * FROM scim_groups WHERE id = $1 AND organization_id = $2${lock ? ' FOR UPDATE' : ''}`,
      [id.toLowerCase(), orgId],
    );
    if (!rows[0]) throw notFound();
    return fromSql(rows[0]);
  }

  /** One tenant transaction; a unique index that catches a concurrent twin is a SCIM 409. */
  private async run<T>(orgId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.transactions.run(orgId, work);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw scimError(409, 'uniqueness', 'A group with this displayName or externalId is already provisioned here.');
      }
      const code = databaseCode(error);
      // A person removed from the organization (or a team deleted) by hand while this ran.
      if (code === '23503') throw scimError(409, undefined, 'The organization changed while this ran: send it again.');
      if (code === '40P01' || code === '40001') {
        throw scimError(503, undefined, 'The request collided with another change: send it again.');
      }
      throw error;
    }
  }

  private async invalidate(orgId: string, userIds: readonly string[]): Promise<void> {
    const unique = [...new Set(userIds)];
    if (unique.length === 0) return;
    if (unique.length > INVALIDATE_EACH_UP_TO) {
      await this.permissions.invalidate(orgId);
      return;
    }
    for (const userId of unique) await this.permissions.invalidate(orgId, userId);
  }

  /** The SCIM representation (RFC 7643 §4.2). */
  private resource(orgId: string, row: GroupRow, members: GroupMemberView[] | undefined): Record<string, unknown> {
    const base = scimBaseUrl(this.config, orgId);
    return {
      schemas: [GROUP_SCHEMA],
      id: row.id,
      ...(row.externalId ? { externalId: row.externalId } : {}),
      displayName: row.displayName,
      members: (members ?? []).map((member) => ({
        value: member.value,
        display: member.display,
        type: 'User',
        $ref: `${base}/Users/${member.value}`,
      })),
      meta: {
        resourceType: 'Group',
        created: row.createdAt.toISOString(),
        lastModified: row.updatedAt.toISOString(),
        version: etagOf(row),
        location: `${base}/Groups/${row.id}`,
      },
    };
  }
}

function fromSql(row: Record<string, unknown>): GroupRow {
  return {
    id: row.id as string,
    teamId: row.team_id as string,
    displayName: row.display_name as string,
    externalId: (row.external_id as string | null) ?? null,
    roleId: (row.role_id as string | null) ?? null,
    version: Number(row.version),
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
  };
}

/** The SQLSTATE of a database error, however the driver wrapped it. */
function databaseCode(error: unknown): string | undefined {
  const outer = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = outer?.code ?? outer?.driverError?.code;
  return typeof code === 'string' ? code : undefined;
}

function notFound() {
  return scimError(404, undefined, 'No such Group here.');
}

function checkedName(value: unknown): string {
  const name = cleanDisplayName(text(value, 'displayName', 200) ?? '');
  if (!name) throw scimError(400, 'invalidValue', 'displayName is required');
  return name;
}

/** A Group body of POST or PUT: displayName, externalId and (when given) the whole member list. */
function readGroup(body: unknown): { displayName: string; externalId: string | null; members?: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw scimError(400, 'invalidSyntax', 'The body must be a SCIM Group object.');
  }
  const group = body as Record<string, unknown>;
  if (!Array.isArray(group.schemas) || !group.schemas.includes(GROUP_SCHEMA)) {
    throw scimError(400, 'invalidValue', `schemas must include ${GROUP_SCHEMA}`);
  }
  const unknown = (group.schemas as unknown[]).filter((schema) => schema !== GROUP_SCHEMA);
  if (unknown.length > 0) throw scimError(400, 'invalidValue', `unknown schema: ${String(unknown[0]).slice(0, 200)}`);
  const members =
    group.members === undefined || group.members === null
      ? undefined
      : [...new Set(memberIds(group.members, 'members', { n: 0 }))];
  return {
    displayName: checkedName(group.displayName),
    externalId: text(group.externalId, 'externalId', 255),
    ...(members !== undefined ? { members } : {}),
  };
}
