import type { RoleScope } from '@app/database';

export interface PermissionDefinition {
  description: string;
  /** Role scopes that may carry the permission: organization roles, team roles, or both. */
  scopes: RoleScope[];
}

const ORG: RoleScope[] = ['organization'];
const BOTH: RoleScope[] = ['organization', 'team'];

/**
 * Every permission, `resource:action`. Code is the source of truth: the table is synced from this
 * at start, and a route names its permission with @RequirePermissions. Add new ones here.
 */
export const PERMISSIONS = {
  'organizations:read': { description: 'See the organization and its settings', scopes: ORG },
  'organizations:update': { description: 'Rename the organization or change its settings', scopes: ORG },
  'organizations:delete': { description: 'Delete the organization and everything in it', scopes: ORG },
  'members:read': { description: 'List members and their roles', scopes: ORG },
  'members:invite': { description: 'Invite people and add members', scopes: ORG },
  'members:remove': { description: 'Remove members', scopes: ORG },
  'members:update-roles': { description: "Change members' organization roles", scopes: ORG },
  'teams:create': { description: 'Create teams', scopes: ORG },
  'teams:read': { description: 'See teams', scopes: BOTH },
  'teams:update': { description: 'Rename or describe a team', scopes: BOTH },
  'teams:delete': { description: 'Delete a team', scopes: BOTH },
  'team-members:manage': { description: 'Add and remove team members and their team roles', scopes: BOTH },
  'roles:read': { description: 'See roles and their permissions', scopes: ORG },
  'roles:create': { description: 'Create custom roles', scopes: ORG },
  'roles:update': { description: 'Change custom roles', scopes: ORG },
  'roles:delete': { description: 'Delete custom roles', scopes: ORG },
  'api-keys:read': { description: 'List API keys (never their secrets)', scopes: ORG },
  'api-keys:create': { description: 'Create API keys', scopes: ORG },
  'api-keys:revoke': { description: 'Revoke API keys', scopes: ORG },
  'audit-logs:read': { description: "Read the organization's audit log", scopes: ORG },
  'llm:use': { description: 'Call the LLM provider', scopes: BOTH },
  'sso:manage': { description: 'Set up single sign-on: connections and verified domains', scopes: ORG },
  'scim:manage': { description: 'Create and revoke the tokens directory sync (SCIM) provisions with', scopes: ORG },
  'webhooks:manage': {
    description: "Register the organization's webhook endpoints, see their deliveries, resend",
    scopes: ORG,
  },
  // No role can carry it: held only by an organization's SCIM tokens, on its SCIM endpoint.
  'scim:provision': { description: 'Provision members and groups over SCIM (SCIM tokens only)', scopes: [] },
  // The example resource (apps/api/src/projects): organization-wide, or in a team for its projects.
  'projects:create': { description: 'Create projects', scopes: BOTH },
  'projects:read': { description: 'See projects', scopes: BOTH },
  'projects:update': { description: 'Change projects', scopes: BOTH },
  'projects:delete': { description: 'Delete projects', scopes: BOTH },
  // generate:resource permissions (npm run generate:resource adds lines above)
} as const satisfies Record<string, PermissionDefinition>;

export type PermissionKey = keyof typeof PERMISSIONS;

export const PERMISSION_KEYS = Object.keys(PERMISSIONS) as PermissionKey[];

export function isPermissionKey(value: string): value is PermissionKey {
  return Object.prototype.hasOwnProperty.call(PERMISSIONS, value);
}

/**
 * Permissions that decide who has access. An API key (a bearer secret, easily leaked) never holds
 * them: a leaked key can read and change data within its permissions, but cannot invite people,
 * change roles, mint more keys or delete the organization — it cannot entrench itself.
 */
export const USER_ONLY_PERMISSIONS: ReadonlySet<PermissionKey> = new Set<PermissionKey>([
  'organizations:delete',
  'members:invite',
  'members:remove',
  'members:update-roles',
  'team-members:manage',
  'roles:create',
  'roles:update',
  'roles:delete',
  'api-keys:create',
  'sso:manage',
  'scim:manage',
  // An endpoint receives every event it subscribes to: registering one reads the organization's activity.
  'webhooks:manage',
]);

/** Whether any role can carry the permission (some are for one kind of machine caller only). */
export function roleGrantable(key: PermissionKey): boolean {
  const scopes: readonly RoleScope[] = PERMISSIONS[key].scopes;
  return scopes.length > 0;
}

export function grantableToApiKeys(key: PermissionKey): boolean {
  return !USER_ONLY_PERMISSIONS.has(key) && roleGrantable(key);
}
