/** What a sign-in flow is for; the state store binds a flow's `state` to it. */
export interface SignInIntent {
  provider: string;
  /** login: sign in or sign up; link: add the identity to `userId`'s account. */
  intent: 'login' | 'link';
  userId?: string;
  /** Hash of the secret the user agent holds (FlowBinding): kept at the start, compared at the callback. */
  binding?: string;
}

/**
 * The request a passport strategy sees. Passport's strategies were written for Express; on Fastify
 * they get this: the parts of Express's `req` they read (`query`, `body`, `headers`, `get()`,
 * `method`, `url`), and no `res` at all, since the bridge turns their actions into a result.
 */
export interface StrategyRequest {
  method: string;
  url: string;
  originalUrl: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, string>;
  body: Record<string, unknown>;
  signIn: SignInIntent;
  get(name: string): string | undefined;
}

export type StrategyOutcome =
  | { kind: 'redirect'; url: string; status: number }
  | { kind: 'success'; user: unknown; info: unknown }
  | { kind: 'fail'; challenge: unknown; status: number | undefined }
  | { kind: 'pass' };

/** The strategy neither finished nor failed in time (a provider that hangs, a strategy that forgot to call back). */
export class StrategyTimeout extends Error {
  override readonly name = 'TimeoutError';
}

export function strategyRequest(
  signIn: SignInIntent,
  parts: {
    method?: string;
    url?: string;
    headers?: StrategyRequest['headers'];
    query?: Record<string, string>;
    body?: Record<string, unknown>;
  } = {},
): StrategyRequest {
  const headers = parts.headers ?? {};
  const url = parts.url ?? '/';
  return {
    method: parts.method ?? 'GET',
    url,
    originalUrl: url,
    headers,
    query: parts.query ?? {},
    body: parts.body ?? {},
    signIn,
    get(name: string) {
      const value = headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    },
  };
}

/**
 * Runs one passport strategy once, the way passport's own `authenticate` middleware does (a
 * throwaway object whose prototype is the strategy, given `success`, `fail`, `redirect`, `pass`
 * and `error`), but answers with what the strategy decided instead of writing to an Express
 * response. This is the one place passport meets Fastify: no express-session, no `res`.
 */
export function runStrategy(
  strategy: { authenticate(req: never, options?: never): unknown },
  req: StrategyRequest,
  options: Record<string, unknown> = {},
  timeoutMs = 15_000,
): Promise<StrategyOutcome> {
  return new Promise<StrategyOutcome>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () => settle(() => reject(new StrategyTimeout('the sign-in strategy did not answer'))),
      timeoutMs,
    );
    const settle = (done: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done();
    };
    const attempt = Object.create(strategy) as {
      authenticate(req: StrategyRequest, options: Record<string, unknown>): unknown;
      success(user: unknown, info?: unknown): void;
      fail(challenge?: unknown, status?: number): void;
      redirect(url: string, status?: number): void;
      pass(): void;
      error(error: unknown): void;
    };
    attempt.success = (user, info) => settle(() => resolve({ kind: 'success', user, info }));
    attempt.fail = (challenge, status) =>
      settle(() =>
        resolve({
          kind: 'fail',
          // passport's fail(status) form: a number alone is the status.
          challenge: typeof challenge === 'number' ? undefined : challenge,
          status: typeof challenge === 'number' ? challenge : status,
        }),
      );
    attempt.redirect = (url, status = 302) => settle(() => resolve({ kind: 'redirect', url, status }));
    attempt.pass = () => settle(() => resolve({ kind: 'pass' }));
    attempt.error = (error) => settle(() => reject(error instanceof Error ? error : new Error(String(error))));
    try {
      attempt.authenticate(req, options);
    } catch (error) {
      attempt.error(error);
    }
  });
}
