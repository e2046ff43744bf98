import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import { ProblemDetailsDto } from './problem-details.dto';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Validation failed (problem+json with `errors`).',
  401: 'Missing, invalid or expired credentials.',
  403: 'Authenticated but not allowed.',
  404: 'Not found.',
  409: 'Conflicts with the current state.',
  410: 'Gone: it existed but no longer applies.',
  413: 'Body too large.',
  415: 'Body is not JSON.',
  422: 'Understood but refused by a downstream service (see the problem type).',
  429: 'Rate limited: see Retry-After and the RateLimit-* headers.',
  502: 'A downstream service failed (see the problem type).',
  503: 'Unavailable for now (see the problem type and Retry-After).',
  504: 'A downstream service timed out.',
};

/** Documents the problem+json responses a route can give. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error', type: ProblemDetailsDto }),
    ),
  );
}

/** A route that needs a Bearer access token (and, like every route, is rate limited). */
export function ApiAuthenticated(): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiBearerAuth('bearer'), ApiProblems(401, 429));
}
