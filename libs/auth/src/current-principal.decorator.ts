import { ProblemException, requestOf } from '@app/common';
import { createParamDecorator, HttpStatus, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import type { Principal, UserPrincipal } from './principal';

function principalOf(context: ExecutionContext): Principal {
  // A REST route's request, or the one under a GraphQL field.
  const request = requestOf(context) as { principal?: Principal };
  if (!request.principal) throw new UnauthorizedException('Authentication is required.');
  return request.principal;
}

/** The authenticated caller, a user or an API key: for routes an API key may call. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal =>
  principalOf(context),
);

/**
 * The signed-in user. The authorization guard keeps API keys off routes that act for a person;
 * this refuses them again, so a handler typed for a user can never receive a key.
 */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): UserPrincipal => {
  const principal = principalOf(context);
  if (principal.kind !== 'user') throw apiKeyNotAllowed();
  return principal;
});

/** 403 /problems/api-key-not-allowed: a route that acts for a person, called with an API key. */
export function apiKeyNotAllowed(): ProblemException {
  return new ProblemException({
    status: HttpStatus.FORBIDDEN,
    slug: 'api-key-not-allowed',
    title: 'Forbidden',
    detail: "API keys work on organization routes only; this one needs a user's access token.",
  });
}
