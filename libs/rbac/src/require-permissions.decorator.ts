import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse } from '@nestjs/swagger';
import type { PermissionKey } from './permission-catalogue';

export const REQUIRED_PERMISSIONS = 'app:required-permissions';

/**
 * The permissions a route needs, in the organization named by its `:orgId` parameter (and in the
 * team named by `:teamId`, where team roles count too). The caller must hold all of them.
 */
export function RequirePermissions(...permissions: [PermissionKey, ...PermissionKey[]]): MethodDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_PERMISSIONS, permissions),
    ApiBearerAuth('bearer'),
    ApiForbiddenResponse({ description: `Needs: ${permissions.join(', ')}` }),
    ApiNotFoundResponse({ description: 'Not found, or the caller is not a member of the organization.' }),
  );
}
