import { ArgumentsHost, Catch, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE } from './problem-details';
import { toProblem } from './problem-mapper';

/** The one place where errors become HTTP responses (application/problem+json). */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    sendProblem(exception, request, reply, this.logger);
  }
}

export function sendProblem(
  exception: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: { error(message: unknown, ...rest: unknown[]): void; warn(message: unknown, ...rest: unknown[]): void },
): void {
  const path = request.url.split('?')[0];
  const { problem, unexpected, headers } = toProblem(exception, path);
  if (unexpected) {
    logger.error(exception instanceof Error ? exception : { err: exception }, 'ProblemDetails');
  } else if (problem.status >= 500) {
    logger.warn({ status: problem.status, reason: exception instanceof Error ? exception.message : String(exception) });
  }
  if (reply.sent) return;
  void reply
    .status(problem.status)
    .headers(headers ?? {})
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problem));
}
