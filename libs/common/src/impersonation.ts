/**
 * The request context key of the platform admin acting for the signed-in user (an impersonation
 * session), set by the authentication guard; the audit log adds it to every row the request writes.
 * (No dot in it: nestjs-cls reads a dotted key as a path into the object stored under its first part.)
 */
export const IMPERSONATOR_KEY = 'impersonatorId';
