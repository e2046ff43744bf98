import { loggableError, toProblem, type ProblemDetails } from '@app/common';
import type { Logger } from '@nestjs/common';
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';

/** The codes of mercurius's request errors, as Apollo's persisted-query clients expect them. */
const MERCURIUS_CODES: Record<string, string> = {
  MER_ERR_GQL_PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  MER_ERR_GQL_PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
  MER_ERR_GQL_PERSISTED_QUERY_MISMATCH: 'PERSISTED_QUERY_MISMATCH',
  MER_ERR_GQL_VALIDATION: 'GRAPHQL_VALIDATION_FAILED',
};

const FAILED_FIELDS = Symbol('failed fields');

interface FailedFields {
  [FAILED_FIELDS]?: Array<{ exception: Error; field: string }>;
}

function requestSchemaError(inner: { message?: unknown; instancePath?: unknown }): GraphQLError {
  const where = typeof inner.instancePath === 'string' && inner.instancePath ? `body${inner.instancePath} ` : 'body ';
  const what = typeof inner.message === 'string' ? inner.message : 'is not a GraphQL request';
  // An array where an object belongs is a batch of operations, which this api does not take.
  const hint = what === 'must be object' ? ' (one operation per request: batches are not accepted)' : '';
  return new GraphQLError(`${where}${what}${hint}`, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
  });
}

/** The errors the resolvers of an operation threw (set by errorFormatter, read after execution). */
export function failedFields(context: object): Array<{ exception: Error; field: string }> {
  return (context as FailedFields)[FAILED_FIELDS] ?? [];
}

/** The GraphQL `extensions.code` for each HTTP status a REST route would have answered with. */
const CODES: Record<number, string> = {
  400: 'BAD_USER_INPUT',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  422: 'BAD_USER_INPUT',
  429: 'RATE_LIMITED',
};

/**
 * Errors as a GraphQL client sees them: `message` and `extensions.code`, plus what the same
 * failure says under REST (problem `type`, `status`, the field `errors`, `missingPermissions`).
 * Never a stack trace or SQL: an unexpected error is logged and answered INTERNAL_SERVER_ERROR.
 */
export function formatError(error: GraphQLError, log: Pick<Logger, 'error'>): GraphQLFormattedError {
  const original = error.originalError;
  // graphql-js's own errors while executing (a value that does not serialize, a null where the
  // schema promises one) quote internal values: a server fault, told as one.
  if (!original && error.path) {
    log.error({ message: error.message, path: error.path.join('.') }, 'GraphQL field failed');
    return {
      message: 'Internal server error.',
      locations: error.locations,
      path: error.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR', status: 500 },
    };
  }
  // graphql-js's own (syntax, validation, variable coercion) and the limits': their text is safe.
  if (!original || original instanceof GraphQLError) {
    const code =
      (original instanceof GraphQLError ? original.extensions.code : undefined) ??
      error.extensions.code ??
      (/^Variable "\$/.test(error.message) ? 'BAD_USER_INPUT' : 'GRAPHQL_VALIDATION_FAILED');
    return { ...error.toJSON(), extensions: { ...error.extensions, code } };
  }
  // mercurius's own refusals of a request (persisted queries, a mutation over GET): safe to show.
  const { code, statusCode } = original as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'string' && code.startsWith('MER_ERR_') && typeof statusCode === 'number' && statusCode < 500) {
    return {
      message: original.message,
      locations: error.locations,
      path: error.path,
      extensions: { code: MERCURIUS_CODES[code] ?? 'BAD_REQUEST', status: statusCode },
    };
  }
  const { problem, unexpected } = toProblem(original, undefined);
  if (unexpected || problem.status >= 500) {
    log.error({ err: loggableError(original), path: error.path?.join('.') }, 'GraphQL field failed');
    return {
      message: 'Internal server error.',
      locations: error.locations,
      path: error.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR', status: 500 },
    };
  }
  return {
    message: problem.detail ?? problem.title,
    locations: error.locations,
    path: error.path,
    extensions: { code: CODES[problem.status] ?? 'BAD_REQUEST', ...problemExtensions(problem) },
  };
}

function problemExtensions(problem: ProblemDetails): Record<string, unknown> {
  const { type, title: _title, detail: _detail, instance: _instance, ...rest } = problem;
  return { ...rest, type };
}

/**
 * mercurius's errorFormatter: each error formatted; the status stays 200 whenever there is data
 * (partial results), and a request GraphQL refused as a whole (it did not parse or validate)
 * answers 400, as the GraphQL-over-HTTP spec has it.
 */
export function errorFormatter(log: Pick<Logger, 'error'>) {
  return (execution: ExecutionResult & { errors: readonly GraphQLError[] }, context: object) => {
    const errors = execution.errors.flatMap((error) => {
      // mercurius wraps a failed validation in one error holding graphql's list.
      const nested = (error.originalError as { errors?: unknown } | undefined)?.errors;
      if (!Array.isArray(nested) || nested.length === 0) return [error];
      // graphql's own errors, or the request schema's (a batch when batches are off: "body must be object").
      return nested.map((inner: unknown) =>
        inner instanceof GraphQLError
          ? inner
          : requestSchemaError(inner as { message?: unknown; instancePath?: unknown }),
      );
    });
    // The formatted errors replace these; what was thrown is kept for the refusal hook.
    (context as FailedFields)[FAILED_FIELDS] = errors.flatMap((error) =>
      error.originalError && !(error.originalError instanceof GraphQLError)
        ? [{ exception: error.originalError, field: error.path?.join('.') ?? 'operation' }]
        : [],
    );
    const formatted = errors.map((error) => formatError(error, log));
    const refusedWhole = execution.data === undefined || execution.data === null;
    const requestError = refusedWhole && errors.every((error) => !error.path);
    // A request refused before GraphQL saw it keeps its HTTP status (413 for a body too large).
    const { statusCode } = (errors[0]?.originalError ?? {}) as { statusCode?: unknown };
    const requestStatus = typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500 ? statusCode : 400;
    return {
      statusCode: requestError ? requestStatus : 200,
      response: { data: execution.data ?? null, errors: formatted },
    };
  };
}
