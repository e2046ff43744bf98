import { ArgumentsHost, Catch, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from './problem-details';
import { toProblem } from './problem-mapper';

/** Paths whose errors are written in another format (SCIM's error schema under /scim/v2/). */
export interface ProblemFormat {
  path: RegExp;
  render: ProblemRenderer;
}

/**
 * The one place where errors become HTTP responses: application/problem+json, or the format of a
 * path that has its own (before the route is even reached: a body the parser refused, say).
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  constructor(private readonly formats: readonly ProblemFormat[] = []) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const path = request.url.split('?')[0] ?? '';
    const format = this.formats.find((candidate) => candidate.path.test(path));
    sendProblem(exception, request, reply, this.logger, format?.render);
  }
}

const SENT_PROBLEM = Symbol('sent problem');

export interface SentProblem {
  problem: ProblemDetails;
  exception: unknown;
}

/** The problem this request was answered with, if any (for hooks that audit refusals). */
export function sentProblem(request: FastifyRequest): SentProblem | undefined {
  return (request as FastifyRequest & { [SENT_PROBLEM]?: SentProblem })[SENT_PROBLEM];
}

/** Writes a problem in another wire format (SCIM's error schema on SCIM routes). */
export type ProblemRenderer = (problem: ProblemDetails) => { contentType: string; body: unknown };

export function sendProblem(
  exception: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: { error(message: unknown, ...rest: unknown[]): void; warn(message: unknown, ...rest: unknown[]): void },
  render?: ProblemRenderer,
): void {
  const path = request.url.split('?')[0];
  const { problem, unexpected, headers } = toProblem(exception, path);
  if (unexpected) {
    logger.error({ err: loggableError(exception), status: problem.status }, 'ProblemDetails');
  } else if (problem.status >= 500) {
    logger.warn({ status: problem.status, reason: exception instanceof Error ? exception.message : String(exception) });
  }
  if (reply.sent) return;
  (request as FastifyRequest & { [SENT_PROBLEM]?: SentProblem })[SENT_PROBLEM] = { problem, exception };
  const rendered = render?.(problem);
  void reply
    .status(problem.status)
    .headers(headers ?? {})
    // A refusal or an error is never for keeping, even on a route whose answers may be cached.
    .header('cache-control', 'no-store')
    .type(rendered?.contentType ?? PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(rendered ? rendered.body : problem));
}

/**
 * What of an error may reach the log: name, message, code and stack. Not the enumerable
 * extras some errors carry (TypeORM's QueryFailedError has the query parameters, which can be
 * password hashes or personal data).
 */
export function loggableError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code } = error as { code?: unknown };
  const driverCode = (error as { driverError?: { code?: unknown } }).driverError?.code;
  return {
    type: error.name,
    message: error.message,
    ...(typeof code === 'string' || typeof driverCode === 'string' ? { code: code ?? driverCode } : {}),
    stack: error.stack,
  };
}
