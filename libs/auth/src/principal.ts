import type { AuditActorType } from '@app/database';

/** Who is calling. Set by the authentication guard on the request and in the CLS context. */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  sessionId: string;
  /** The access token's id (jti). */
  tokenId: string;
  /** How the session signed in: `password`, `oauth:<provider>`, `sso:<connection id>`, … */
  authMethod: string;
  /** Set when a platform admin acts as this user (an impersonation session). */
  impersonator?: Impersonator;
}

/** Who acts for the user in an impersonation session, and whether changes are allowed. */
export interface Impersonator {
  userId: string;
  write: boolean;
}

/**
 * A machine caller: an API key, confined to its organization and its permissions (further limited,
 * at authorization, to what its creator still holds there). It reaches permissioned organization
 * routes only; user routes refuse it.
 */
export interface ApiKeyPrincipal {
  kind: 'apiKey';
  apiKeyId: string;
  organizationId: string;
  permissions: ReadonlySet<string>;
  createdByUserId: string | null;
}

/**
 * A caller of another kind a module adds (a SCIM provisioning token, a service account...): a
 * machine confined to one organization, with its own audit actor type. A module declares it with
 * a credential resolver (CredentialResolvers) and an authorizer (the rbac PrincipalAuthorizers),
 * and names it here by augmenting PrincipalKinds:
 *
 *   declare module '@app/auth' { interface PrincipalKinds { scim: ScimPrincipal } }
 */
export interface MachinePrincipal {
  kind: string;
  /** The audit_logs actor_type of this kind's rows. */
  actorType: AuditActorType;
  actorId: string;
  organizationId: string;
}

/** Every kind of caller, by `kind`. Open: a module adds its own (see MachinePrincipal). */
export interface PrincipalKinds {
  user: UserPrincipal;
  apiKey: ApiKeyPrincipal;
}

export type Principal = PrincipalKinds[keyof PrincipalKinds];

/** The request context key of the caller. A symbol: nestjs-cls reads a string key as a dotted path (split and walked on every get and set); a symbol is one property lookup. */
export const PRINCIPAL_KEY = Symbol('principal');

/** The actor columns of an audit row for this caller. */
export function auditActor(principal: Principal): { actorType: AuditActorType; actorId: string } {
  if (principal.kind === 'user') return { actorType: 'user', actorId: principal.userId };
  if (principal.kind === 'apiKey') return { actorType: 'api_key', actorId: principal.apiKeyId };
  const machine = principal as MachinePrincipal;
  return { actorType: machine.actorType, actorId: machine.actorId };
}

/** The organization a caller is confined to (API keys and other machines), if any. */
export function confinedTo(principal: Principal): string | undefined {
  if (principal.kind === 'user') return undefined;
  return (principal as { organizationId: string }).organizationId;
}
