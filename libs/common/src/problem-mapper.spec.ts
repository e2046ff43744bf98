import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { ProblemException } from './problem-details';
import { toProblem } from './problem-mapper';

describe('toProblem', () => {
  it('keeps the detail of client errors', () => {
    const { problem, unexpected } = toProblem(new BadRequestException('slug is taken'), '/x');
    expect(problem).toEqual({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'slug is taken',
      instance: '/x',
    });
    expect(unexpected).toBe(false);
  });

  it('gives a domain problem its own type and extensions', () => {
    const error = new ProblemException({
      status: 403,
      slug: 'email-not-verified',
      title: 'Email not verified',
      extensions: { resend: '/x' },
    });
    expect(toProblem(error, '/login').problem).toEqual({
      type: '/problems/email-not-verified',
      title: 'Email not verified',
      status: 403,
      detail: undefined,
      instance: '/login',
      errors: undefined,
      resend: '/x',
    });
  });

  it('hides the message of server errors', () => {
    const { problem, unexpected } = toProblem(new Error('relation "users" does not exist'), '/x');
    expect(problem.status).toBe(500);
    expect(JSON.stringify(problem)).not.toContain('relation');
    expect(unexpected).toBe(true);
    expect(toProblem(new HttpException('db password is x', 502), '/x').problem.detail).toBe('Bad Gateway');
  });

  it('turns a lost database connection into 503 with Retry-After', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const mapped = toProblem(refused, '/x');
    expect(mapped.problem).toMatchObject({ status: 503, type: '/problems/service-unavailable' });
    expect(mapped.headers).toEqual({ 'retry-after': '5' });
    expect(toProblem({ driverError: { code: '57P01' } }, '/x').problem.status).toBe(503);
  });

  it("reads Fastify's errors through Nest's wrapper", () => {
    const fastifyError = Object.assign(new Error('too big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
    const wrapped = new HttpException('too big', 413, { cause: fastifyError });
    expect(toProblem(wrapped, '/x').problem).toMatchObject({ status: 413, type: '/problems/payload-too-large' });
  });

  it('rewrites the router not-found message', () => {
    expect(toProblem(new NotFoundException('Cannot GET /secret/path'), '/secret/path').problem.detail).toBe(
      'No resource exists at this address.',
    );
  });
});
