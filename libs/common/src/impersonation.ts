/**
 * The request context key of the platform admin acting for the signed-in user (an impersonation
 * session), set by the authentication guard; the audit log adds it to every row the request writes.
 * A symbol: nestjs-cls reads a string key as a dotted path (split and walked on every get and set); a symbol is one property lookup.
 */
export const IMPERSONATOR_KEY = Symbol('impersonatorId');
