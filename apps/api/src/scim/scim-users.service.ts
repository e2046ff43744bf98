import { AuditService, type AuditActor } from '@app/audit';
import { cleanDisplayName, newId, spoofingCharacter } from '@app/common';
import { AppConfig } from '@app/config';
import { OrganizationMember, ScimUser, TenantTransaction, User } from '@app/database';
import { PermissionResolver, SYSTEM_ROLES } from '@app/rbac';
import { Injectable } from '@nestjs/common';
import { Raw, type EntityManager } from 'typeorm';
import { MembersService } from '../members/members.service';
import type { ScimPrincipal } from './scim-access';
import { scimError } from './scim-errors';
import { lockDirectory, restoreGroupsOf } from './scim-group-membership';
import { applyUserPatch } from './scim-patch-user';
import { checkVersion, etagOf, positive, scimActor, text } from './scim-values';
import { userFilterSql } from './scim-filter';
import { scimBaseUrl } from './scim-tokens.service';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const MAX_COUNT = 200;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** What the api keeps of a SCIM User, taken from a POST or PUT body (or a patched resource). */
interface UserFields {
  userName: string;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  active: boolean;
  email: string | null;
}

export interface ScimListQuery {
  filter?: string;
  startIndex?: string;
  count?: string;
  attributes?: string;
  excludedAttributes?: string;
}

type Row = ScimUser & { email: string };

/**
 * SCIM Users of one organization (RFC 7643/7644): each is a member the IdP manages. Creating one
 * finds or makes the account and the membership; `active: false` or DELETE ends the membership at
 * once (the permission cache is invalidated on every replica; API keys the person made here are
 * revoked), and the account survives for its other organizations. Every request is one tenant
 * transaction; every change is audited with the SCIM token as the actor.
 */
@Injectable()
export class ScimUsersService {
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
    const where = query.filter ? ` AND ${userFilterSql(query.filter, params)}` : '';
    const { rows, total } = await this.transactions.run(orgId, async (manager) => {
      const from = `FROM scim_users su JOIN users u ON u.id = su.user_id WHERE su.organization_id = $1${where}`;
      const totals = await manager.query<Array<{ total: string }>>(`SELECT count(*) AS total ${from}`, params);
      const found =
        count === 0
          ? []
          : await manager.query<Array<Record<string, unknown>>>(
              `SELECT su.*, u.email ${from} ORDER BY su.created_at, su.id OFFSET ${startIndex - 1} LIMIT ${count}`,
              params,
            );
      return { rows: found.map(fromSql), total: Number(totals[0]?.total ?? 0) };
    });
    const project = projection(query);
    return {
      schemas: [LIST_SCHEMA],
      totalResults: total,
      startIndex,
      itemsPerPage: rows.length,
      Resources: rows.map((row) => project(this.resource(orgId, row))),
    };
  }

  async get(orgId: string, id: string, query: ScimListQuery = {}): Promise<Record<string, unknown>> {
    const row = await this.transactions.run(orgId, (manager) => this.find(manager, orgId, id));
    return projection(query)(this.resource(orgId, row));
  }

  async create(actor: ScimPrincipal, orgId: string, body: unknown): Promise<Record<string, unknown>> {
    const fields = readUser(body);
    if (!fields.email) {
      throw scimError(400, 'invalidValue', 'A user needs an email address: in emails, or a userName that is one.');
    }
    const email = fields.email;
    const row = await this.transactions.run(orgId, async (manager) => {
      await this.assertUnique(manager, orgId, fields, undefined);
      const domain = email.slice(email.lastIndexOf('@') + 1);
      const domainVerified = await this.domainVerified(manager, orgId, domain);
      const existing = await manager.findOne(User, {
        where: { email: Raw((column) => `lower(${column}) = :email`, { email }) },
        lock: { mode: 'pessimistic_write' },
      });
      let userId: string;
      if (existing) {
        // Joined only when the organization is authoritative for the address and its owner proved it.
        if (!domainVerified || !existing.emailVerifiedAt || !existing.isActive) {
          throw scimError(
            409,
            'uniqueness',
            'An account with this email exists and cannot be joined by provisioning (the address is outside the ' +
              "organization's verified domains, or its account never verified it): invite the person instead.",
          );
        }
        userId = existing.id;
      } else {
        // Only where the organization is authoritative for addresses: elsewhere an account made
        // here would squat an address someone else owns (invite such people instead).
        if (!domainVerified) {
          throw scimError(
            400,
            'invalidValue',
            "Provisioning creates accounts only for addresses in the organization's verified domains: invite this person instead.",
          );
        }
        userId = newId();
        await manager.insert(User, {
          id: userId,
          email,
          emailVerifiedAt: new Date(),
          passwordHash: null,
          fullName: displayNameOf(fields),
        });
      }
      if (await manager.existsBy(ScimUser, { organizationId: orgId, userId })) {
        throw scimError(409, 'uniqueness', 'This person is already provisioned here under another userName.');
      }
      const entity = Object.assign(new ScimUser(), {
        id: newId(),
        organizationId: orgId,
        userId,
        userName: fields.userName,
        externalId: fields.externalId,
        givenName: fields.givenName,
        familyName: fields.familyName,
        displayName: fields.displayName,
        active: fields.active,
        version: 1,
      });
      await manager.insert(ScimUser, entity);
      if (fields.active) await this.grantMembership(manager, orgId, userId, scimActor(actor));
      await this.audit.change(manager, 'scim.user.create', orgId, scimActor(actor), ['user', userId], {
        scimId: entity.id,
        userName: fields.userName,
        externalId: fields.externalId,
        active: fields.active,
        accountCreated: !existing,
      });
      return this.find(manager, orgId, entity.id);
    });
    await this.permissions.invalidate(orgId, row.userId);
    return this.resource(orgId, row);
  }

  async replace(
    actor: ScimPrincipal,
    orgId: string,
    id: string,
    body: unknown,
    ifMatch: string | undefined,
  ): Promise<Record<string, unknown>> {
    return this.change(actor, orgId, id, ifMatch, () => readUser(body));
  }

  async patch(
    actor: ScimPrincipal,
    orgId: string,
    id: string,
    body: unknown,
    ifMatch: string | undefined,
  ): Promise<Record<string, unknown>> {
    return this.change(actor, orgId, id, ifMatch, (current) => {
      const patched = applyUserPatch(
        {
          userName: current.userName,
          externalId: current.externalId,
          givenName: current.givenName,
          familyName: current.familyName,
          displayName: current.displayName,
          active: current.active,
          email: current.email,
        },
        body,
      );
      return {
        ...patched,
        userName: checkedUserName(patched.userName),
        externalId: text(patched.externalId, 'externalId', 255),
        givenName: clean(text(patched.givenName, 'name.givenName', 200)),
        familyName: clean(text(patched.familyName, 'name.familyName', 200)),
        displayName: clean(text(patched.displayName, 'displayName', 200)),
      };
    });
  }

  async remove(actor: ScimPrincipal, orgId: string, id: string, ifMatch: string | undefined): Promise<void> {
    const userId = await this.transactions.run(orgId, async (manager) => {
      await lockDirectory(manager, orgId);
      const row = await this.find(manager, orgId, id, true);
      checkVersion(row, ifMatch);
      await this.assertMayRemove(manager, actor, orgId, row.userId);
      await this.members.removeMembership(manager, orgId, row.userId, scimActor(actor), 'member.remove', {
        via: 'scim',
      });
      await manager.delete(ScimUser, { id: row.id });
      await this.audit.change(manager, 'scim.user.delete', orgId, scimActor(actor), ['user', row.userId], {
        scimId: row.id,
        userName: row.userName,
      });
      return row.userId;
    });
    await this.permissions.invalidate(orgId, userId);
  }

  /** PUT and PATCH: the new fields from the current resource, applied in one transaction. */
  private async change(
    actor: ScimPrincipal,
    orgId: string,
    id: string,
    ifMatch: string | undefined,
    next: (current: Row) => UserFields,
  ): Promise<Record<string, unknown>> {
    const row = await this.transactions.run(orgId, async (manager) => {
      // Group membership, teams and mapped roles follow `active`: the directory's order of locks.
      await lockDirectory(manager, orgId);
      const current = await this.find(manager, orgId, id, true);
      checkVersion(current, ifMatch);
      const fields = next(current);
      if (fields.email !== null && fields.email !== current.email) {
        throw scimError(
          400,
          'mutability',
          "emails: the account's address is the person's; provisioning cannot change it",
        );
      }
      await this.assertUnique(manager, orgId, fields, current.id);
      const changed = (['userName', 'externalId', 'givenName', 'familyName', 'displayName', 'active'] as const).filter(
        (key) => current[key] !== fields[key],
      );
      if (changed.length === 0) return current;
      await manager.update(
        ScimUser,
        { id: current.id },
        {
          userName: fields.userName,
          externalId: fields.externalId,
          givenName: fields.givenName,
          familyName: fields.familyName,
          displayName: fields.displayName,
          active: fields.active,
          version: current.version + 1,
        },
      );
      if (current.active && !fields.active) {
        await this.assertMayRemove(manager, actor, orgId, current.userId);
        await this.members.removeMembership(manager, orgId, current.userId, scimActor(actor), 'member.remove', {
          via: 'scim',
          reason: 'deactivated',
        });
      } else if (!current.active && fields.active) {
        await this.grantMembership(manager, orgId, current.userId, scimActor(actor));
        await restoreGroupsOf(manager, orgId, current.id);
      }
      await this.audit.change(manager, 'scim.user.update', orgId, scimActor(actor), ['user', current.userId], {
        scimId: current.id,
        changed,
        ...(changed.includes('active') ? { active: fields.active } : {}),
      });
      return this.find(manager, orgId, current.id);
    });
    await this.permissions.invalidate(orgId, row.userId);
    return this.resource(orgId, row);
  }

  /**
   * A SCIM token acts with its creator's authority: it removes only people whose roles here its
   * creator could grant (so an admin's token cannot remove an owner), like the members API.
   */
  private async assertMayRemove(
    manager: EntityManager,
    actor: ScimPrincipal,
    orgId: string,
    userId: string,
  ): Promise<void> {
    const held = await manager.query<Array<{ role_id: string }>>(
      'SELECT role_id FROM role_assignments WHERE organization_id = $1 AND user_id = $2 AND team_id IS NULL',
      [orgId, userId],
    );
    if (held.length === 0 || !actor.createdByUserId) return;
    await this.members.assertGrantable(
      manager,
      actor.createdByUserId,
      orgId,
      held.map((row) => row.role_id),
    );
  }

  private async grantMembership(
    manager: EntityManager,
    orgId: string,
    userId: string,
    actor: AuditActor,
  ): Promise<void> {
    if (await manager.existsBy(OrganizationMember, { organizationId: orgId, userId })) return;
    await this.members.insertMembership(manager, orgId, userId, [SYSTEM_ROLES.member.id], null);
    await this.audit.change(manager, 'member.add', orgId, actor, ['user', userId], {
      roleIds: [SYSTEM_ROLES.member.id],
      via: 'scim',
    });
  }

  private async assertUnique(
    manager: EntityManager,
    orgId: string,
    fields: UserFields,
    except: string | undefined,
  ): Promise<void> {
    const clash = await manager.query<Array<{ user_name: string; external_id: string | null }>>(
      `SELECT user_name, external_id FROM scim_users
        WHERE organization_id = $1 AND (user_name = $2 OR external_id = $3) AND id IS DISTINCT FROM $4
        FOR UPDATE`,
      [orgId, fields.userName, fields.externalId, except ?? null],
    );
    if (clash.some((row) => row.user_name === fields.userName)) {
      throw scimError(409, 'uniqueness', `userName ${fields.userName} is already provisioned here.`);
    }
    if (clash.length > 0) throw scimError(409, 'uniqueness', 'externalId is already provisioned here.');
  }

  private async domainVerified(manager: EntityManager, orgId: string, domain: string): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      'SELECT 1 FROM organization_domains WHERE organization_id = $1 AND domain = $2 AND verified_at IS NOT NULL',
      [orgId, domain],
    );
    return rows.length > 0;
  }

  private async find(manager: EntityManager, orgId: string, id: string, lock = false): Promise<Row> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw notFound();
    const rows = await manager.query<Array<Record<string, unknown>>>(
      `SELECT su.*, u.email FROM scim_users su JOIN users u ON u.id = su.user_id
        WHERE su.id = $1 AND su.organization_id = $2${lock ? ' FOR UPDATE OF su' : ''}`,
      [id.toLowerCase(), orgId],
    );
    const row = rows[0];
    if (!row) throw notFound();
    return fromSql(row);
  }

  /** The SCIM representation (RFC 7643 §4.1). */
  resource(orgId: string, row: Row): Record<string, unknown> {
    const name =
      row.givenName || row.familyName
        ? {
            ...(row.givenName ? { givenName: row.givenName } : {}),
            ...(row.familyName ? { familyName: row.familyName } : {}),
            formatted: [row.givenName, row.familyName].filter(Boolean).join(' '),
          }
        : undefined;
    return {
      schemas: [USER_SCHEMA],
      id: row.id,
      ...(row.externalId ? { externalId: row.externalId } : {}),
      userName: row.userName,
      ...(name ? { name } : {}),
      ...(row.displayName ? { displayName: row.displayName } : {}),
      emails: [{ value: row.email, type: 'work', primary: true }],
      active: row.active,
      meta: {
        resourceType: 'User',
        created: row.createdAt.toISOString(),
        lastModified: row.updatedAt.toISOString(),
        version: etagOf(row),
        location: `${scimBaseUrl(this.config, orgId)}/Users/${row.id}`,
      },
    };
  }
}

function fromSql(row: Record<string, unknown>): Row {
  return Object.assign(new ScimUser(), {
    id: row.id as string,
    organizationId: row.organization_id as string,
    userId: row.user_id as string,
    userName: row.user_name as string,
    externalId: (row.external_id as string | null) ?? null,
    active: row.active as boolean,
    givenName: (row.given_name as string | null) ?? null,
    familyName: (row.family_name as string | null) ?? null,
    displayName: (row.display_name as string | null) ?? null,
    version: Number(row.version),
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
    email: row.email as string,
  });
}

function notFound() {
  return scimError(404, undefined, 'No such User here.');
}

/** `attributes` / `excludedAttributes` over top-level attributes (id, schemas and meta always stay). */
export function projection(
  query: ScimListQuery,
  kind: 'user' | 'group' = 'user',
): (resource: Record<string, unknown>) => Record<string, unknown> {
  const urn = new RegExp(`^urn:ietf:params:scim:schemas:core:2\\.0:${kind}:`);
  const list = (value: string | undefined) =>
    value
      ?.split(',')
      .map((item) => item.trim().toLowerCase().replace(urn, '').split('.')[0] ?? '')
      .filter(Boolean);
  const only = list(query.attributes);
  const without = list(query.excludedAttributes);
  if (!only?.length && !without?.length) return (resource) => resource;
  const always = new Set(['id', 'schemas', 'meta']);
  return (resource) =>
    Object.fromEntries(
      Object.entries(resource).filter(([key]) => {
        const lower = key.toLowerCase();
        if (always.has(lower)) return true;
        if (only?.length) return only.includes(lower);
        return !without?.includes(lower);
      }),
    );
}

/** A boolean as IdPs send it: true/false, or Entra ID's "True"/"False" strings. */
function bool(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw scimError(400, 'invalidValue', `${name} must be true or false`);
}

/** The User attributes the api keeps, checked; attributes it does not keep are ignored. */
function readUser(body: unknown): UserFields {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw scimError(400, 'invalidSyntax', 'The body must be a SCIM User object.');
  }
  const user = body as Record<string, unknown>;
  const schemas = user.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(USER_SCHEMA)) {
    throw scimError(400, 'invalidValue', `schemas must include ${USER_SCHEMA}`);
  }
  const unknown = schemas.filter((schema) => schema !== USER_SCHEMA && schema !== ENTERPRISE_USER_SCHEMA);
  if (unknown.length > 0) throw scimError(400, 'invalidValue', `unknown schema: ${String(unknown[0]).slice(0, 200)}`);
  const userName = checkedUserName(user.userName);
  const name = (user.name ?? {}) as Record<string, unknown>;
  if (typeof name !== 'object' || Array.isArray(name)) throw scimError(400, 'invalidValue', 'name must be an object');
  const emails = user.emails;
  if (emails !== undefined && !Array.isArray(emails)) throw scimError(400, 'invalidValue', 'emails must be a list');
  const listed = ((emails ?? []) as Array<Record<string, unknown>>).filter(
    (entry) => typeof entry === 'object' && entry !== null && typeof entry.value === 'string',
  );
  const chosen =
    listed.find((entry) => entry.primary === true || entry.primary === 'true' || entry.primary === 'True') ??
    listed.find((entry) => entry.type === 'work') ??
    listed[0];
  const candidate = (typeof chosen?.value === 'string' ? chosen.value : userName).trim().toLowerCase();
  const email =
    EMAIL.test(candidate) && candidate.length <= 320 && spoofingCharacter(candidate) === undefined ? candidate : null;
  if (chosen && !email) throw scimError(400, 'invalidValue', 'emails value must be an email address');
  const displayName = text(user.displayName, 'displayName', 200);
  return {
    userName,
    externalId: text(user.externalId, 'externalId', 255),
    givenName: clean(text(name.givenName, 'name.givenName', 200)),
    familyName: clean(text(name.familyName, 'name.familyName', 200)),
    displayName: clean(displayName),
    active: user.active === undefined ? true : bool(user.active, 'active'),
    email,
  };
}

function checkedUserName(value: unknown): string {
  const userName = text(value, 'userName', 320, true)!.toLowerCase();
  if (spoofingCharacter(userName) !== undefined) {
    throw scimError(400, 'invalidValue', 'userName must not contain invisible or direction-changing characters');
  }
  return userName;
}

function clean(value: string | null): string | null {
  if (value === null) return null;
  return cleanDisplayName(value) || null;
}

function displayNameOf(fields: UserFields): string | null {
  return fields.displayName ?? ([fields.givenName, fields.familyName].filter(Boolean).join(' ') || null);
}
