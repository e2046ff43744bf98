import type { PermissionKey } from '@app/rbac';

/** A JSON Schema fragment (the catalogue's schemas are small and written by hand). */
export type JsonSchema = Record<string, unknown>;

/**
 * One kind of domain event. Events are thin: `data.id` names the object (of `target` type), with the
 * fields listed here taken from the change's audit record, and `data.actor` who did it. A consumer
 * that needs the whole object reads it through the API with its id.
 */
export interface EventDefinition {
  /** `resource.past_tense`: team.updated. */
  type: string;
  description: string;
  /** Who may see it (the realtime stream filters on it; webhooks need webhooks:manage). */
  permission: PermissionKey;
  /** The audit actions that mean this event happened (every change is audited in its transaction). */
  auditActions: string[];
  /** What `data.id` names. */
  target: string;
  /** Fields copied from the audit record's metadata when present, with their schemas. */
  fields: Record<string, JsonSchema>;
}

const CATALOGUE = new Map<string, EventDefinition>();
const BY_AUDIT_ACTION = new Map<string, EventDefinition>();

/**
 * Adds an event type to the catalogue. A module defines its events once, next to its code (like
 * permissions); a type or an audit action defined twice differently is a start-up error.
 */
export function defineEvent(definition: EventDefinition): EventDefinition {
  const known = CATALOGUE.get(definition.type);
  if (known) {
    if (JSON.stringify(known) !== JSON.stringify(definition)) {
      throw new Error(`event ${definition.type} is defined twice, differently`);
    }
    return known;
  }
  for (const action of definition.auditActions) {
    const other = BY_AUDIT_ACTION.get(action);
    if (other) throw new Error(`audit action ${action} already means ${other.type}`);
  }
  CATALOGUE.set(definition.type, definition);
  for (const action of definition.auditActions) BY_AUDIT_ACTION.set(action, definition);
  return definition;
}

/** `<name>.created|updated|deleted` for a tenant resource (TenantResources calls it for each resource). */
export function defineResourceEvents(name: string, permission: PermissionKey): void {
  const label = name.replace(/[-_]/g, ' ');
  defineEvent({
    type: `${name}.created`,
    description: `A ${label} was created`,
    permission,
    auditActions: [`${name}.create`],
    target: name,
    fields: {},
  });
  defineEvent({
    type: `${name}.updated`,
    description: `A ${label} was changed`,
    permission,
    auditActions: [`${name}.update`],
    target: name,
    fields: { fields: STRINGS('The fields that changed') },
  });
  defineEvent({
    type: `${name}.deleted`,
    description: `A ${label} was deleted`,
    permission,
    auditActions: [`${name}.delete`],
    target: name,
    fields: {},
  });
}

export function eventForAuditAction(action: string): EventDefinition | undefined {
  return BY_AUDIT_ACTION.get(action);
}

export function eventDefinition(type: string): EventDefinition | undefined {
  return CATALOGUE.get(type);
}

/** Every event type defined so far, sorted by type. */
export function eventCatalogue(): EventDefinition[] {
  return [...CATALOGUE.values()].sort((a, b) => a.type.localeCompare(b.type));
}

/** The JSON Schema of one event's body: `{type, timestamp, data}`. */
export function eventBodySchema(definition: EventDefinition): JsonSchema {
  return {
    type: 'object',
    description: definition.description,
    required: ['type', 'timestamp', 'data'],
    properties: {
      type: { type: 'string', enum: [definition.type] },
      timestamp: { type: 'string', format: 'date-time', description: 'When the change committed.' },
      data: {
        type: 'object',
        required: ['id', 'organizationId', 'actor'],
        properties: {
          id: { type: 'string', description: `The ${definition.target}'s id.` },
          organizationId: { type: 'string', format: 'uuid' },
          actor: {
            type: 'object',
            required: ['type', 'id'],
            properties: {
              type: { type: 'string', enum: ['user', 'api_key', 'system', 'scim_token'] },
              id: { type: ['string', 'null'], format: 'uuid' },
            },
          },
          ...definition.fields,
        },
      },
    },
  };
}

const UUID: JsonSchema = { type: 'string', format: 'uuid' };
const UUIDS = (description: string): JsonSchema => ({ type: 'array', items: UUID, description });
const STRINGS = (description: string): JsonSchema => ({ type: 'array', items: { type: 'string' }, description });
const TEXT = (description: string): JsonSchema => ({ type: 'string', description });

/** Sent only by "send a test event", to the one endpoint it was asked for. */
export const WEBHOOK_TEST_EVENT = defineEvent({
  type: 'webhook.test',
  description: 'A test event, sent when someone asks for one for this endpoint',
  permission: 'webhooks:manage',
  auditActions: [],
  target: 'webhook endpoint',
  fields: {},
});

// The framework's own events. Modules add theirs with defineEvent (or, for a TenantResources
// resource, get <name>.created/updated/deleted without writing anything).
defineEvent({
  type: 'organization.updated',
  description: 'The organization was renamed or its settings changed',
  permission: 'organizations:read',
  auditActions: ['organization.update'],
  target: 'organization',
  fields: { fields: STRINGS('The fields that changed') },
});
defineEvent({
  type: 'member.added',
  description: 'A person became a member (invitation, direct add, SSO or directory provisioning)',
  permission: 'members:read',
  auditActions: ['member.add'],
  target: 'user',
  fields: { roleIds: UUIDS('Their organization roles'), via: TEXT('How, when not by hand: scim, sso-provisioning…') },
});
defineEvent({
  type: 'member.removed',
  description: 'A person stopped being a member (removed, left, or deprovisioned)',
  permission: 'members:read',
  auditActions: ['member.remove', 'member.leave'],
  target: 'user',
  fields: { via: TEXT('How, when not by hand'), reason: TEXT('Why, when known') },
});
defineEvent({
  type: 'member.roles_changed',
  description: "A member's organization roles changed",
  permission: 'members:read',
  auditActions: ['member.roles.update'],
  target: 'user',
  fields: { added: UUIDS('Roles granted'), removed: UUIDS('Roles taken away') },
});
defineEvent({
  type: 'role.created',
  description: 'A custom role was created',
  permission: 'roles:read',
  auditActions: ['role.create'],
  target: 'role',
  fields: {},
});
defineEvent({
  type: 'role.updated',
  description: 'A custom role was changed',
  permission: 'roles:read',
  auditActions: ['role.update'],
  target: 'role',
  fields: {},
});
defineEvent({
  type: 'role.deleted',
  description: 'A custom role was deleted',
  permission: 'roles:read',
  auditActions: ['role.delete'],
  target: 'role',
  fields: {},
});
defineEvent({
  type: 'team.created',
  description: 'A team was created',
  permission: 'teams:read',
  auditActions: ['team.create'],
  target: 'team',
  fields: { name: TEXT('Its name') },
});
defineEvent({
  type: 'team.updated',
  description: 'A team was renamed or described',
  permission: 'teams:read',
  auditActions: ['team.update'],
  target: 'team',
  fields: { fields: STRINGS('The fields that changed') },
});
defineEvent({
  type: 'team.deleted',
  description: 'A team was deleted',
  permission: 'teams:read',
  auditActions: ['team.delete'],
  target: 'team',
  fields: {},
});
defineEvent({
  type: 'team.member_added',
  description: 'A member joined a team',
  permission: 'teams:read',
  auditActions: ['team.member.add'],
  target: 'user',
  fields: { teamId: UUID, roleIds: UUIDS('Their team roles') },
});
defineEvent({
  type: 'team.member_removed',
  description: 'A member left a team',
  permission: 'teams:read',
  auditActions: ['team.member.remove'],
  target: 'user',
  fields: { teamId: UUID },
});
defineEvent({
  type: 'team.member_roles_changed',
  description: "A team member's team roles changed",
  permission: 'teams:read',
  auditActions: ['team.member.roles.update'],
  target: 'user',
  fields: { teamId: UUID, added: UUIDS('Roles granted'), removed: UUIDS('Roles taken away') },
});
defineEvent({
  type: 'invitation.created',
  description: 'Someone was invited',
  permission: 'members:read',
  auditActions: ['invitation.create'],
  target: 'invitation',
  fields: { roleIds: UUIDS('The roles the invitation grants') },
});
defineEvent({
  type: 'invitation.accepted',
  description: 'An invitation was accepted (a member.added follows)',
  permission: 'members:read',
  auditActions: ['invitation.accept'],
  target: 'invitation',
  fields: {},
});
defineEvent({
  type: 'invitation.revoked',
  description: 'An invitation was withdrawn',
  permission: 'members:read',
  auditActions: ['invitation.revoke'],
  target: 'invitation',
  fields: {},
});
defineEvent({
  type: 'api_key.created',
  description: 'An API key was created',
  permission: 'api-keys:read',
  auditActions: ['api-key.create'],
  target: 'api key',
  fields: { permissions: STRINGS('What it may do') },
});
defineEvent({
  type: 'api_key.revoked',
  description: 'An API key was revoked (by hand, or with its creator’s access)',
  permission: 'api-keys:read',
  auditActions: ['api-key.revoke'],
  target: 'api key',
  fields: { reason: TEXT('Why, when not by hand') },
});
