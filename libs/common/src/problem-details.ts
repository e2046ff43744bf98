import { HttpException, HttpStatus } from '@nestjs/common';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details, as every error response of the api is shaped. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** Problem type URIs are relative references; docs/errors.md lists them. */
export function problemType(slug: string): string {
  return `/problems/${slug}`;
}

/**
 * A domain error with its own problem type. Services throw it when a plain status
 * is not enough for a client to act on (e.g. `email-not-verified`).
 */
export class ProblemException extends HttpException {
  constructor(
    readonly problem: {
      status: number;
      slug: string;
      title: string;
      detail?: string;
      errors?: FieldError[];
      extensions?: Record<string, unknown>;
      /** Response headers that go with it (Retry-After). */
      headers?: Record<string, string>;
    },
  ) {
    super(problem.detail ?? problem.title, problem.status);
  }
}

export class ValidationProblemException extends ProblemException {
  constructor(errors: FieldError[], detail = 'The request is not valid.') {
    super({ status: HttpStatus.BAD_REQUEST, slug: 'validation-error', title: 'Validation failed', detail, errors });
  }
}
