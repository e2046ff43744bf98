/** Who is calling. Set by the authentication guard on the request and in the CLS context. */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  sessionId: string;
  /** The access token's id (jti). */
  tokenId: string;
}

export type Principal = UserPrincipal;

export const PRINCIPAL_KEY = 'principal';
