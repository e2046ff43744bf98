export { createTestApp, silentLogger, type TestApp, type TestAppOptions } from './test-app';
export { createTestDatabase, type TestDatabase } from './test-database';
export { readServicesEnv } from './services-env';
export { createTwoTenants, type TenantFixture, type TwoTenants } from './two-tenants.fixture';
export { startSmtpSink, type ReceivedMail, type SmtpSink } from './smtp-sink';
export { BUILT_ENTRY, freePort, startProcess, type AppProcess } from './processes';
export {
  bearer,
  flowCookieOf,
  login,
  joinByInvitation,
  markEmailVerified,
  register,
  registerAndLogin,
  setPlatformAdmin,
  STRONG_PASSWORD,
  tokenFromMail,
  uniqueEmail,
  type Tokens,
} from './auth-helpers';
export { CREDENTIAL_COLUMNS, readsOf, recordStatements, SHOWN_ONLY } from './sql-statements';
export { fillPath, registeredRoutes, type HttpMethod, type RegisteredRoute } from './route-table';
export { createRoleFixture, type RoleFixture, type TenantRoles, type RoleName, ROLE_NAMES } from './role-fixture';
export { RESOURCE_FIXTURES, type ResourceFixture } from './resource-fixtures';
export {
  GOOGLE_ROUTES,
  googleEndpoints,
  followToRedirect,
  loginHint,
  registerClient,
  startGitHubStandIn,
  startIdentityProviders,
  type AuthorizationResponse,
  type GitHubStandIn,
  type GitHubUser,
  type IdentityProviders,
  type IdpAccount,
} from './oauth-peers';
export { FlakyJob, FlakyJobModule, FlakyJobState, type FlakyPayload } from './flaky-job';
export { startOpenAiStandIn, type OpenAiStandIn, type StandInReply, type StandInRequest } from './openai-stand-in';
export { startNpmRegistryStandIn, type NpmRegistryStandIn } from './npm-registry-stand-in';
export { startOtlpCollector, type CollectedSpan, type OtlpCollector } from './otlp-collector';
export { startOwnPostgres, type OwnPostgres } from './own-postgres';
export { startOwnRedis, type OwnRedis } from './own-redis';
export { startDnsServer, type DnsServer } from './dns-server';
export {
  startSamlIdp,
  editXml,
  stripSignatures,
  withDoctype,
  wrapSignature,
  type SamlIdp,
  type SamlIdpResponse,
} from './saml-idp';
export { WebhookReceiver, type ReceivedAttempt, type ReceiverBehaviour } from './webhook-receiver';
export {
  SoftwareAuthenticator,
  type AssertionJson,
  type CreationOptions,
  type Overrides,
  type RegistrationJson,
  type RequestOptions,
} from './webauthn-authenticator';
