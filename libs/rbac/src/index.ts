export { AuthorizationGuard, NotAMemberException } from './authorization.guard';
export { CatalogueSync } from './catalogue-sync';
export {
  grantableToApiKeys,
  isPermissionKey,
  roleGrantable,
  USER_ONLY_PERMISSIONS,
  PERMISSION_KEYS,
  PERMISSIONS,
  type PermissionDefinition,
  type PermissionKey,
} from './permission-catalogue';
export { PermissionResolver, type Membership } from './permission-resolver';
export { RbacModule } from './rbac.module';
export {
  DURING_DELETION,
  DuringOrganizationDeletion,
  OrSelf,
  OWN_ACCOUNT,
  OwnAccount,
  PLATFORM_ADMIN_ONLY,
  RequirePermissions,
  RequirePlatformAdmin,
  REQUIRED_PERMISSIONS,
  SELF_PARAMETER,
  TEAM_SCOPED,
  TeamScoped,
} from './require-permissions.decorator';
export { ACCESS_KEY, ResourceAccess, type PermissionReach } from './resource-access';
export { PlatformAdmins } from './platform-admins';
export { PrincipalAuthorizers, type PrincipalAuthorizer } from './principal-authorizers';
export { SYSTEM_ROLES, type SystemRoleDefinition, type SystemRoleName } from './system-roles';
export { TENANT_KEY, TenantContext } from './tenant-context';
export { permissionDenied } from './permission-denied';
export {
  fieldGrant,
  grantField,
  noteRefusalScope,
  refusalScope,
  type FieldGrant,
  type RefusalScope,
} from './graphql-grants';
