import { SetMetadata } from '@nestjs/common';

export const NO_IMPERSONATION = 'auth:no-impersonation';
export const IMPERSONATION_SAFE = 'auth:impersonation-safe';

/**
 * Refused to an impersonation session even when it may write: the person's own credentials and
 * factors (password, MFA, passkeys, linked identities), new credentials in their name (API keys),
 * and ending their other sessions. On a controller or a handler.
 */
export const NoImpersonation = (): MethodDecorator & ClassDecorator => SetMetadata(NO_IMPERSONATION, true);

/** A change a read-only impersonation may still make (signing out, which ends it). */
export const ImpersonationSafe = (): MethodDecorator & ClassDecorator => SetMetadata(IMPERSONATION_SAFE, true);
