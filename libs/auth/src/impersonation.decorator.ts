import { SetMetadata } from '@nestjs/common';

export const NO_IMPERSONATION = 'auth:no-impersonation';
export const IMPERSONATION_SAFE = 'auth:impersonation-safe';

/**
 * Refused to an impersonation session even when it may write: the person's own credentials and
 * factors (password, MFA, passkeys, linked identities), ending their sessions, and anything that
 * would keep working for the impersonator after the session ends: credentials in their name or the
 * organization's (API keys, SCIM tokens), sign-in configuration (SSO connections, domains,
 * enforcement) and where data is sent (webhook endpoints and their secrets). On a controller or a
 * handler.
 */
export const NoImpersonation = (): MethodDecorator & ClassDecorator => SetMetadata(NO_IMPERSONATION, true);

/** A change a read-only impersonation may still make (signing out, which ends it). */
export const ImpersonationSafe = (): MethodDecorator & ClassDecorator => SetMetadata(IMPERSONATION_SAFE, true);
