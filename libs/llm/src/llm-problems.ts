import { ProblemException } from '@app/common';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai/core/error';

/**
 * The caller went away (or gave up) before the answer was complete. A problem of its own (499, as
 * proxies log it) so that it is not mistaken for a failure of ours; nobody is left to read it.
 */
export class LlmAbortedError extends ProblemException {
  constructor() {
    super({
      status: 499,
      slug: 'client-closed-request',
      title: 'Client Closed Request',
      detail: 'The client went away before the answer was complete.',
    });
    this.name = 'LlmAbortedError';
  }
}

export function llmNotConfigured(): ProblemException {
  return new ProblemException({
    status: 503,
    slug: 'llm-not-configured',
    title: 'LLM not configured',
    detail: 'This installation has no LLM provider (set OPENAI_API_KEY or OPENAI_BASE_URL).',
  });
}

/** Seconds in a Retry-After (or retry-after-ms) header the provider sent, if any and sane. */
function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return Math.max(1, Math.ceil(ms / 1000));
  const seconds = Number(headers?.get('retry-after'));
  if (Number.isFinite(seconds) && seconds > 0) return Math.ceil(seconds);
  return undefined;
}

/** A short machine code the provider gave (`context_length_exceeded`); never its free text. */
function providerCode(error: APIError<number, Headers | undefined>): string | undefined {
  const code = error.code ?? error.type;
  return typeof code === 'string' && /^[a-z0-9_.-]{1,64}$/i.test(code) ? code : undefined;
}

/**
 * What a client learns when the provider fails: a problem of our own, never the provider's body
 * (it can name the installation's key or account). The SDK has already retried what is worth retrying.
 */
export function providerProblem(error: unknown, timeoutMs: number): Error {
  if (error instanceof ProblemException) return error;
  if (error instanceof APIUserAbortError) return new LlmAbortedError();
  if (error instanceof APIConnectionTimeoutError) {
    return new ProblemException({
      status: 504,
      slug: 'llm-timeout',
      title: 'LLM provider timed out',
      detail: `The LLM provider did not answer within ${timeoutMs} ms.`,
    });
  }
  if (error instanceof APIConnectionError) {
    return new ProblemException({
      status: 502,
      slug: 'llm-unavailable',
      title: 'LLM provider unreachable',
      detail: 'The LLM provider could not be reached.',
    });
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const failure = error as APIError<number, Headers | undefined>;
    const status = failure.status;
    if (status === 429 && providerCode(failure) === 'insufficient_quota') {
      // Not busy: out of credit. Waiting will not help; an operator must.
      return new ProblemException({
        status: 502,
        slug: 'llm-provider-error',
        title: 'LLM provider error',
        detail: 'The LLM provider account has no quota left; an operator must see to it.',
        extensions: { providerStatus: status, providerCode: 'insufficient_quota' },
      });
    }
    if (status === 429) {
      return new ProblemException({
        status: 503,
        slug: 'llm-busy',
        title: 'LLM provider busy',
        detail: 'The LLM provider is rate limiting this installation. Try again later.',
        headers: { 'retry-after': String(retryAfterSeconds(failure.headers) ?? 30) },
      });
    }
    if (status === 400 || status === 413 || status === 422) {
      const code = providerCode(failure);
      return new ProblemException({
        status: 422,
        slug: 'llm-request-rejected',
        title: 'Request rejected by the LLM provider',
        detail: 'The LLM provider refused these messages (too long for the model, or filtered).',
        extensions: code ? { providerCode: code } : undefined,
      });
    }
    return new ProblemException({
      status: 502,
      slug: 'llm-provider-error',
      title: 'LLM provider error',
      detail:
        status === 401 || status === 403 || status === 404
          ? 'The LLM provider refused this installation’s credentials or model; an operator must check the OPENAI_* settings.'
          : 'The LLM provider failed to answer.',
      extensions: { providerStatus: status },
    });
  }
  return new ProblemException({
    status: 502,
    slug: 'llm-provider-error',
    title: 'LLM provider error',
    detail: 'The LLM provider gave an answer that could not be read.',
  });
}

/** Worth trying again later (the provider was down, slow or busy), as opposed to refused for good. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof ProblemException)) return true;
  const { slug, extensions } = error.problem;
  if (slug === 'llm-provider-error') {
    // Its 5xx (or an unreadable answer) may pass; a refused key or unknown model will not.
    const status = extensions?.providerStatus;
    return typeof status !== 'number' || status >= 500;
  }
  return ['llm-timeout', 'llm-unavailable', 'llm-busy'].includes(slug);
}
