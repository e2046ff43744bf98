import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiSecurity } from '@nestjs/swagger';
import { grantableToApiKeys, type PermissionKey } from './permission-catalogue';

export const REQUIRED_PERMISSIONS = 'app:required-permissions';
export const SELF_PARAMETER = 'app:self-parameter';
export const PLATFORM_ADMIN_ONLY = 'app:platform-admin-only';
export const TEAM_SCOPED = 'app:team-scoped';
export const DURING_DELETION = 'app:during-organization-deletion';

/**
 * Served for an organization whose deletion is scheduled (restoring it); every other organization
 * route answers 410 `organization-deletion-scheduled` until it is restored or purged.
 */
export function DuringOrganizationDeletion(): MethodDecorator {
  return SetMetadata(DURING_DELETION, true);
}

/**
 * The permissions a route needs, in the organization named by its `:orgId` parameter (and in the
 * team named by `:teamId`, where team roles count too). The caller must hold all of them.
 */
export function RequirePermissions(...permissions: [PermissionKey, ...PermissionKey[]]): MethodDecorator {
  const keysMayCall = permissions.every((permission) => grantableToApiKeys(permission));
  return applyDecorators(
    SetMetadata(REQUIRED_PERMISSIONS, permissions),
    ApiBearerAuth('bearer'),
    ...(keysMayCall ? [ApiSecurity('api-key')] : []),
    ApiForbiddenResponse({ description: `Needs: ${permissions.join(', ')}` }),
    ApiNotFoundResponse({ description: 'Not found, or the caller is not a member of the organization.' }),
  );
}

/**
 * Lets a member act on themself without the permission (e.g. leave an organization): the route
 * passes when its `parameter` is the caller's own user id and the caller is a member.
 */
export function OrSelf(parameter: string): MethodDecorator {
  return SetMetadata(SELF_PARAMETER, parameter);
}

export const OWN_ACCOUNT = 'app:own-account';

/**
 * Says in so many words what a route or GraphQL field without permissions does: it acts on the
 * signed-in user's own account, for users only (API keys are refused), as every such route does
 * by default. GraphQL fields must carry it (or @Public(), or permissions): the schema inventory
 * test refuses a field that says nothing.
 */
export function OwnAccount(): MethodDecorator {
  return SetMetadata(OWN_ACCOUNT, true);
}

/** A route for operators of the whole installation: only platform admins pass (403 otherwise). */
export function RequirePlatformAdmin(): MethodDecorator {
  return applyDecorators(
    SetMetadata(PLATFORM_ADMIN_ONLY, true),
    ApiBearerAuth('bearer'),
    ApiForbiddenResponse({ description: 'Only platform admins.' }),
  );
}

/**
 * For routes on a resource that may belong to a team (a project of team T), where the team is a
 * property of the row rather than a `:teamId` in the path: team roles count too, so the guard lets
 * through a caller who holds the permissions organization-wide or in at least one team. The
 * service then narrows to the teams that count with `ResourceAccess` (404 for a row the caller
 * may not see, 403 for one they may see but not change).
 */
export function TeamScoped(): ClassDecorator & MethodDecorator {
  return SetMetadata(TEAM_SCOPED, true);
}
