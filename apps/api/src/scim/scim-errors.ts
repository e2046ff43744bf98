import { ProblemException, type ProblemDetails } from '@app/common';
import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
/** Every SCIM route: errors there are written in SCIM's error schema (see ProblemDetailsFilter). */
export const SCIM_PATH = /^\/api\/v1\/organizations\/[^/]+\/scim\/v2(\/|$)/;
export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12's detail error keywords. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

/** A refusal on a SCIM route: recorded like every problem, written in SCIM's error schema. */
export function scimError(status: number, scimType: ScimType | undefined, detail: string): ProblemException {
  return new ProblemException({
    status,
    slug: `scim-${scimType ?? 'error'}`,
    title: HttpStatus[status] ?? 'Error',
    detail,
    ...(scimType ? { extensions: { scimType } } : {}),
  });
}

/** A problem as RFC 7644 §3.12 writes it: status as a string, scimType where there is one, detail. */
export function renderScimError(problem: ProblemDetails): { contentType: string; body: unknown } {
  const fieldErrors = problem.errors?.map((error) => `${error.field}: ${error.message}`).join('; ');
  const scimType =
    typeof problem.scimType === 'string'
      ? problem.scimType
      : problem.status === 400 && (problem.errors?.length ?? 0) > 0
        ? 'invalidValue'
        : undefined;
  return {
    contentType: SCIM_CONTENT_TYPE,
    body: {
      schemas: [SCIM_ERROR_SCHEMA],
      status: String(problem.status),
      ...(scimType ? { scimType } : {}),
      detail: fieldErrors ? `${problem.detail ?? problem.title} (${fieldErrors})` : (problem.detail ?? problem.title),
    },
  };
}

/** OpenAPI: a SCIM route's auth (a SCIM token as bearer) and its errors, in SCIM's error schema. */
export function ApiScimErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  const schema = {
    type: 'object',
    required: ['schemas', 'status'],
    properties: {
      schemas: { type: 'array', items: { type: 'string', enum: [SCIM_ERROR_SCHEMA] } },
      status: { type: 'string', example: '400' },
      scimType: { type: 'string', example: 'invalidFilter' },
      detail: { type: 'string' },
    },
  };
  return applyDecorators(
    ApiBearerAuth('bearer'),
    ...[...new Set([401, 403, 404, 429, ...statuses])].map((status) =>
      ApiResponse({ status, description: `SCIM error (${status})`, content: { 'application/scim+json': { schema } } }),
    ),
  );
}
