import { Metrics, ProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import type { ExecutionContext } from '@nestjs/common';
import { SkipThrottle, Throttle } from '@nestjs/throttler';
import { CredentialEndpoint } from './rate-limit.decorator';
import { RateLimitGuard, rateLimitOptions, THROTTLER_METADATA } from './rate-limit.guard';
import { RateLimitStorage } from './rate-limit.storage';

let dynamicLimitCalls = 0;

class Routes {
  plain(): void {}

  @Throttle({ default: { limit: 2, ttl: 60_000 } })
  tight(): void {}

  @SkipThrottle({ default: true })
  skipped(): void {}

  @Throttle({
    default: {
      limit: () => {
        dynamicLimitCalls += 1;
        return 1;
      },
      ttl: 60_000,
    },
  })
  dynamic(): void {}

  @CredentialEndpoint()
  login(): void {}
}

type Handler = keyof Routes;

function call(handler: Handler, request: Record<string, unknown>, headers: Map<string, string>): ExecutionContext {
  const reply = {
    header(name: string, value: string) {
      headers.set(name, value);
      return reply;
    },
  };
  const http = { getRequest: () => request, getResponse: () => reply, getNext: () => undefined };
  return {
    getType: () => 'http',
    getClass: () => Routes,
    getHandler: () => Object.getOwnPropertyDescriptor(Routes.prototype, handler)?.value as () => void,
    getArgs: () => [request, reply],
    getArgByIndex: (index: number) => [request, reply][index],
    switchToHttp: () => http,
  } as unknown as ExecutionContext;
}

describe('RateLimitGuard', () => {
  const config = AppConfig.fromEnv({
    JWT_SECRET: 'x'.repeat(40),
    NODE_ENV: 'test',
    RATE_LIMIT_PER_MINUTE: '5',
    AUTH_RATE_LIMIT_PER_MINUTE: '3',
  });
  let storage: RateLimitStorage;
  let guard: RateLimitGuard;
  let calls: string[];

  beforeEach(async () => {
    storage = new RateLimitStorage(config);
    calls = [];
    const increment = storage.increment.bind(storage);
    storage.increment = (key, ...rest) => {
      calls.push(key);
      return increment(key, ...rest);
    };
    guard = new RateLimitGuard(rateLimitOptions(config), storage, new Metrics());
    await guard.onModuleInit();
    dynamicLimitCalls = 0;
  });

  let address = 0;

  /** How many requests from a new address pass before the first refusal (at most `tries`). */
  async function passes(handler: Handler, tries: number, body?: unknown): Promise<number> {
    const ip = `203.0.113.${(address += 1)}`;
    for (let i = 0; i < tries; i++) {
      const allowed = await guard.canActivate(call(handler, { ip, body }, new Map())).catch((error: unknown) => {
        if (error instanceof ProblemException && error.getStatus() === 429) return false;
        throw error;
      });
      if (!allowed) return i;
    }
    return tries;
  }

  it('names the metadata keys that @nestjs/throttler decorators write', () => {
    const handler = (): void => undefined;
    const keys = (decorate: MethodDecorator): unknown[] => {
      const target = { handler };
      decorate(target, 'handler', { value: handler });
      return Reflect.getMetadataKeys(handler);
    };
    const getTracker = (): string => 't';
    const generateKey = (): string => 'k';
    expect(keys(SkipThrottle({ default: true }))).toContain(`${THROTTLER_METADATA.skip}default`);
    expect(keys(Throttle({ default: { limit: 1, ttl: 2, blockDuration: 3, getTracker, generateKey } }))).toEqual(
      expect.arrayContaining([
        `${THROTTLER_METADATA.limit}default`,
        `${THROTTLER_METADATA.ttl}default`,
        `${THROTTLER_METADATA.blockDuration}default`,
        `${THROTTLER_METADATA.tracker}default`,
        `${THROTTLER_METADATA.keyGenerator}default`,
      ]),
    );
  });

  it('applies the module limit, a route @Throttle, @SkipThrottle and a limit computed per request', async () => {
    expect(await passes('plain', 10)).toBe(5);
    expect(await passes('tight', 10)).toBe(2);
    const counted = calls.length;
    expect(await passes('skipped', 10)).toBe(10);
    expect(calls).toHaveLength(counted);
    expect(await passes('dynamic', 10)).toBe(1);
    // Called for every request, not once per route.
    expect(dynamicLimitCalls).toBe(2);
  });

  it('counts a credential endpoint against the address and the account limits too', async () => {
    expect(await passes('login', 10, { email: 'someone@example.test' })).toBe(3);
    expect(new Set(calls.map((key) => key.split(':')[0]))).toEqual(new Set(['default', 'auth-ip', 'auth-account']));
  });

  it('shows the tightest limit in the RateLimit headers', async () => {
    const headers = new Map<string, string>();
    await guard.canActivate(call('login', { ip: '198.51.100.1', body: { email: 'a@example.test' } }, headers));
    expect(Object.fromEntries(headers)).toMatchObject({ 'ratelimit-limit': '3', 'ratelimit-remaining': '2' });
  });
});
