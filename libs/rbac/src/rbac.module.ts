import { Global, Module } from '@nestjs/common';
import { AuthorizationGuard } from './authorization.guard';
import { CatalogueSync } from './catalogue-sync';
import { PermissionResolver } from './permission-resolver';

/** Permissions, system roles and the authorization guard (registered globally by the api, after authentication). */
@Global()
@Module({
  providers: [PermissionResolver, CatalogueSync, AuthorizationGuard],
  exports: [PermissionResolver, AuthorizationGuard],
})
export class RbacModule {}
