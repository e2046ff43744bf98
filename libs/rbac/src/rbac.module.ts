import { Global, Module } from '@nestjs/common';
import { AuthorizationGuard } from './authorization.guard';
import { CatalogueSync } from './catalogue-sync';
import { PrincipalAuthorizers } from './principal-authorizers';
import { PermissionResolver } from './permission-resolver';
import { PlatformAdmins } from './platform-admins';

/** Permissions, system roles and the authorization guard (registered globally by the api, after authentication). */
@Global()
@Module({
  providers: [PermissionResolver, PlatformAdmins, CatalogueSync, AuthorizationGuard, PrincipalAuthorizers],
  exports: [PermissionResolver, PlatformAdmins, AuthorizationGuard, PrincipalAuthorizers],
})
export class RbacModule {}
