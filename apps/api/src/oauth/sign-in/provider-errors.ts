import { ProblemException } from '@app/common';
import { HttpStatus, type Logger } from '@nestjs/common';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * A network failure talking to the provider (refused, reset, timed out, no DNS answer), as
 * opposed to a refusal or an invalid response. Looks through `cause` (fetch, openid-client) and
 * `oauthError` (passport-oauth2's wrapper around node-oauth's errors).
 */
export function isUnreachable(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const candidate = error as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    oauthError?: unknown;
  };
  if (candidate.name === 'AbortError' || candidate.name === 'TimeoutError') return true;
  if (candidate.name === 'ProviderUnreachable') return true;
  if (typeof candidate.code === 'string' && NETWORK_CODES.has(candidate.code)) return true;
  if (error instanceof TypeError && typeof candidate.message === 'string' && /fetch failed/i.test(candidate.message)) {
    return true;
  }
  return isUnreachable(candidate.cause, depth + 1) || isUnreachable(candidate.oauthError, depth + 1);
}

/** What a failed sign-in strategy means for the client: 503 when the provider is unreachable, else 400. */
export function providerProblem(logger: Logger, providerId: string, error: unknown): ProblemException {
  if (error instanceof ProblemException) return error;
  const code = (error as { code?: unknown }).code;
  const reason = `${error instanceof Error ? error.message : String(error)}${typeof code === 'string' ? ` (${code})` : ''}`;
  if (isUnreachable(error)) {
    logger.warn(`${providerId} unreachable: ${reason}`);
    return new ProblemException({
      status: HttpStatus.SERVICE_UNAVAILABLE,
      slug: 'provider-unavailable',
      title: 'Service Unavailable',
      detail: 'The sign-in provider cannot be reached.',
    });
  }
  logger.warn(`${providerId} sign-in refused: ${reason}`);
  return new ProblemException({
    status: HttpStatus.BAD_REQUEST,
    slug: 'oauth-failed',
    title: 'Bad Request',
    detail:
      'The sign-in could not be completed with the provider (the code may be used or expired, or its response was not valid).',
  });
}
