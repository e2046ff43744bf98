export { AccessTokenService, type AccessTokenClaims } from './access-token.service';
export { AuthModule } from './auth.module';
export { AuthenticationGuard } from './authentication.guard';
export { apiKeyNotAllowed, CurrentPrincipal, CurrentUser } from './current-principal.decorator';
export { PasswordHasher } from './password-hasher';
export { PasswordPolicy, type PasswordContext } from './password-policy';
export {
  auditActor,
  confinedTo,
  PRINCIPAL_KEY,
  type ApiKeyPrincipal,
  type Impersonator,
  type MachinePrincipal,
  type Principal,
  type PrincipalKinds,
  type UserPrincipal,
} from './principal';
export { CredentialResolvers, type CredentialResolver } from './credential-resolvers';
export { API_KEY_PREFIX, apiKeyPrefix, generateApiKey, type NewApiKey } from './api-key-format';
export { ApiKeyRegistry, type RevokedKey } from './api-key-registry';
export { IS_PUBLIC, Public } from './public.decorator';
export { SecretBox } from './secret-box';
export { generateSecret, safeEqual, sha256 } from './secret-token';
export { SessionRegistry } from './session-registry';
export { Semaphore } from './semaphore';
export { OneTimeTokenService } from './one-time-token.service';
export { IMPERSONATION_SAFE, ImpersonationSafe, NO_IMPERSONATION, NoImpersonation } from './impersonation.decorator';
export { type LiveSession } from './session-registry';
