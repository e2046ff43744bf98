import { type ProblemException, toProblem } from '@app/common';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { isTransient, LlmAbortedError, providerProblem } from './llm-problems';
import { usagePeriod } from './organization-llm';

const upstream = (status: number, body: object = {}, headers: Record<string, string> = {}) =>
  APIError.generate(status, { error: body }, 'provider said: sk-secret-123', new Headers(headers));
const mapped = (error: unknown) => providerProblem(error, 1000) as ProblemException;

describe('provider failures as problems', () => {
  it.each([
    [upstream(500), 502, 'llm-provider-error', true],
    [upstream(503), 502, 'llm-provider-error', true],
    [upstream(401), 502, 'llm-provider-error', false],
    [upstream(404), 502, 'llm-provider-error', false],
    [upstream(429), 503, 'llm-busy', true],
    [upstream(429, { code: 'insufficient_quota' }), 502, 'llm-provider-error', false],
    [upstream(400, { code: 'context_length_exceeded' }), 422, 'llm-request-rejected', false],
    [new APIConnectionTimeoutError(), 504, 'llm-timeout', true],
    [new APIConnectionError({ message: 'ECONNREFUSED' }), 502, 'llm-unavailable', true],
    [new Error('not JSON'), 502, 'llm-provider-error', true],
  ])('%s → %i %s (transient: %s)', (error, status, slug, transient) => {
    const problem = mapped(error);
    expect(problem.problem).toMatchObject({ status, slug });
    expect(JSON.stringify(problem.problem)).not.toContain('sk-secret');
    expect(isTransient(problem)).toBe(transient);
  });

  it('passes the provider’s Retry-After on, in seconds', () => {
    expect(mapped(upstream(429, {}, { 'retry-after-ms': '1500' })).problem.headers).toEqual({ 'retry-after': '2' });
    expect(mapped(upstream(429, {}, { 'retry-after': '7' })).problem.headers).toEqual({ 'retry-after': '7' });
    expect(mapped(upstream(429)).problem.headers).toEqual({ 'retry-after': '30' });
  });

  it('keeps only a short machine code from the provider, never its text', () => {
    expect(mapped(upstream(400, { code: 'context_length_exceeded' })).problem.extensions).toEqual({
      providerCode: 'context_length_exceeded',
    });
    expect(mapped(upstream(400, { code: 'has spaces: and words' })).problem.extensions).toBeUndefined();
  });

  it('an abort is the caller leaving (499, not logged as our failure), not a failure to retry', () => {
    const aborted = providerProblem(new APIUserAbortError(), 1000);
    expect(aborted).toBeInstanceOf(LlmAbortedError);
    expect(isTransient(aborted)).toBe(false);
    const { problem, unexpected } = toProblem(aborted, '/x');
    expect(problem.status).toBe(499);
    expect(unexpected).toBe(false);
  });
});

describe('usage periods', () => {
  it('are calendar months in UTC', () => {
    expect(usagePeriod(new Date('2026-11-30T23:59:59Z'))).toBe('2026-11-01');
    expect(usagePeriod(new Date('2026-12-01T00:00:00Z'))).toBe('2026-12-01');
    expect(usagePeriod(new Date('2027-01-15T12:00:00+14:00'))).toBe('2027-01-01');
  });
});
