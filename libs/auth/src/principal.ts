/** Who is calling. Set by the authentication guard on the request and in the CLS context. */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  sessionId: string;
  /** The access token's id (jti). */
  tokenId: string;
  /** How the session signed in: `password`, `oauth:<provider>`, `sso:<connection id>`, … */
  authMethod: string;
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

export type Principal = UserPrincipal | ApiKeyPrincipal;

export const PRINCIPAL_KEY = 'principal';

/** The actor columns of an audit row for this caller. */
export function auditActor(principal: Principal): { actorType: 'user' | 'api_key'; actorId: string } {
  return principal.kind === 'user'
    ? { actorType: 'user', actorId: principal.userId }
    : { actorType: 'api_key', actorId: principal.apiKeyId };
}
