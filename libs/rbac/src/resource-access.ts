import { ClsServiceManager } from 'nestjs-cls';
import { permissionDenied } from './permission-denied';
import type { Membership } from './permission-resolver';

/** A symbol: nestjs-cls reads a string key as a dotted path (split and walked on every get and set); a symbol is one property lookup. */
export const ACCESS_KEY = Symbol('rbac.access');

/** Where a permission holds for the current caller: the whole organization, or these teams. */
export type PermissionReach = { organization: true } | { organization: false; teamIds: string[] };

function current(): Membership {
  const cls = ClsServiceManager.getClsService();
  const access = cls.isActive() ? cls.get<Membership | undefined>(ACCESS_KEY) : undefined;
  if (!access) throw new Error('No access in this context: the route needs @RequirePermissions with :orgId.');
  return access;
}

/**
 * What the current caller may do in the organization of the request, as the authorization guard
 * worked it out (a user's roles; for an API key, its permissions that its creator still holds).
 * Team-scoped services use it to narrow lists and to check the team of the row they act on.
 */
export const ResourceAccess = {
  reach(permission: string): PermissionReach {
    const access = current();
    if (access.permissions.has(permission)) return { organization: true };
    const teamIds = [...access.teamPermissions].filter(([, held]) => held.has(permission)).map(([id]) => id);
    return { organization: false, teamIds };
  },

  /** True when the caller holds `permission` organization-wide, or in `teamId`. */
  allows(permission: string, teamId: string | null): boolean {
    const access = current();
    if (access.permissions.has(permission)) return true;
    return teamId !== null && access.teamPermissions.get(teamId)?.has(permission) === true;
  },

  /** Throws the usual 403 problem when `allows` is false. */
  require(permission: string, teamId: string | null): void {
    if (!ResourceAccess.allows(permission, teamId)) {
      throw permissionDenied(
        [permission],
        teamId ? `This needs ${permission} in the organization or in this team.` : `This needs ${permission}.`,
      );
    }
  },
};
