import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { ProblemException, problemType, type ProblemDetails } from './problem-details';

/** Database driver errors that mean "the database is unreachable", not "the query is wrong". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

interface ErrorLike {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  driverError?: unknown;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as ErrorLike;
  if (typeof candidate.code === 'string') return candidate.code;
  if (candidate.driverError) return errorCode(candidate.driverError);
  return undefined;
}

function isConnectionFailure(error: unknown): boolean {
  const code = errorCode(error);
  if (code && UNAVAILABLE_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed/i.test(
    message,
  );
}

function titleFor(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** Fastify's own errors (raised before Nest sees the request) and what clients should read. */
function fromFastifyError(error: ErrorLike): ProblemDetails | undefined {
  const code = typeof error.code === 'string' ? error.code : '';
  if (!code.startsWith('FST_') || typeof error.statusCode !== 'number') return undefined;
  const status = error.statusCode;
  switch (code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        type: problemType('unsupported-media-type'),
        title: titleFor(415),
        status: 415,
        detail: 'The request body must be sent as application/json.',
      };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        type: problemType('payload-too-large'),
        title: titleFor(413),
        status: 413,
        detail: 'The request body is larger than the server accepts.',
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        type: problemType('malformed-json'),
        title: titleFor(400),
        status: 400,
        detail: 'The request body is not valid JSON.',
      };
    default:
      if (status >= 400 && status < 500) {
        return { type: 'about:blank', title: titleFor(status), status, detail: titleFor(status) };
      }
      return undefined;
  }
}

export interface MappedProblem {
  problem: ProblemDetails;
  /** True when the error is unexpected and must be logged with its stack. */
  unexpected: boolean;
  headers?: Record<string, string>;
}

/**
 * Turns any thrown value into problem details without leaking internals:
 * 5xx responses never carry the original message, a stack, or SQL.
 */
export function toProblem(error: unknown, instance: string | undefined): MappedProblem {
  if (error instanceof ProblemException) {
    const { status, slug, title, detail, errors, extensions, headers } = error.problem;
    return {
      problem: { ...extensions, type: problemType(slug), title, status, detail, instance, errors },
      unexpected: false,
      headers,
    };
  }
  // Nest hands Fastify's own errors (body parsing, size limits) over wrapped in an HttpException.
  const fastifyCause = error instanceof HttpException ? error.cause : error;
  if (typeof fastifyCause === 'object' && fastifyCause !== null) {
    const fastifyProblem = fromFastifyError(fastifyCause);
    if (fastifyProblem) return { problem: { ...fastifyProblem, instance }, unexpected: false };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    let detail: string | undefined;
    if (typeof response === 'string') detail = response;
    else if (typeof response === 'object' && response !== null) {
      const message = (response as { message?: unknown }).message;
      if (typeof message === 'string') detail = message;
      else if (Array.isArray(message)) detail = message.map(String).join('; ');
    }
    if (status >= 500) detail = undefined;
    if (status === 404 && detail?.startsWith('Cannot ')) detail = 'No resource exists at this address.';
    return {
      problem: { type: 'about:blank', title: titleFor(status), status, detail: detail ?? titleFor(status), instance },
      unexpected: status >= 500,
    };
  }
  // Constraint and data errors the database raised about a value the client sent.
  const sqlState = errorCode(error);
  if (sqlState && /^22[0-9A-Z]{3}$/.test(sqlState)) {
    return {
      problem: {
        type: problemType('invalid-value'),
        title: titleFor(400),
        status: HttpStatus.BAD_REQUEST,
        detail: 'A value is not acceptable (too long, out of range or malformed).',
        instance,
      },
      unexpected: false,
    };
  }
  if (sqlState === '23505') {
    return {
      problem: {
        type: problemType('conflict'),
        title: titleFor(409),
        status: HttpStatus.CONFLICT,
        detail: 'This conflicts with an existing record.',
        instance,
      },
      unexpected: false,
    };
  }
  if (isConnectionFailure(error)) {
    return {
      problem: {
        type: problemType('service-unavailable'),
        title: titleFor(503),
        status: HttpStatus.SERVICE_UNAVAILABLE,
        detail: 'A backing service is unavailable. Try again shortly.',
        instance,
      },
      unexpected: false,
      headers: { 'retry-after': '5' },
    };
  }
  return {
    problem: {
      type: 'about:blank',
      title: titleFor(500),
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      detail: 'An unexpected error occurred. Quote the request id when reporting it.',
      instance,
    },
    unexpected: true,
  };
}
