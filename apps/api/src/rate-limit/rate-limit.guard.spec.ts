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

  @Throttle({ default: { limit: 2, ttl: 20_000 } })
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

/** Class-level decorators, and handlers that override them. */
@Throttle({ default: { limit: 3, ttl: 30_000, blockDuration: 90_000 } })
@SkipThrottle({ 'auth-ip': true })
class Decorated {
  inherited(): void {}

  @Throttle({ default: { limit: 1, ttl: () => 45_000, getTracker: () => 'fixed-tracker' } })
  overridden(): void {}

  @SkipThrottle({ default: true })
  skippedHere(): void {}

  @CredentialEndpoint()
  @SkipThrottle({ 'auth-ip': false })
  credentialUnskipped(): void {}
}

type Handler = keyof Routes;

function call(
  handler: Handler,
  request: Record<string, unknown>,
  headers: Map<string, string>,
  controller: new () => object = Routes,
): ExecutionContext {
  const reply = {
    header(name: string, value: string) {
      headers.set(name, value);
      return reply;
    },
  };
  const http = { getRequest: () => request, getResponse: () => reply, getNext: () => undefined };
  return {
    getType: () => 'http',
    getClass: () => controller,
    getHandler: () => Object.getOwnPropertyDescriptor(controller.prototype, handler)?.value as () => void,
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
  /** Keys the guard allowed to be counted ahead (leases). */
  let leased: Set<string>;

  beforeEach(async () => {
    storage = new RateLimitStorage(config);
    calls = [];
    leased = new Set();
    const increment = storage.increment.bind(storage);
    storage.increment = (key, ...rest) => {
      calls.push(key);
      if (rest[4] === true) leased.add(key.split(':')[0] ?? key);
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
    // Only the caller's own general limit may be counted ahead, never the credential limits.
    expect(leased).toEqual(new Set(['default']));
  });

  it('shows the tightest limit in the RateLimit headers', async () => {
    const headers = new Map<string, string>();
    await guard.canActivate(call('login', { ip: '198.51.100.1', body: { email: 'a@example.test' } }, headers));
    expect(Object.fromEntries(headers)).toMatchObject({ 'ratelimit-limit': '3', 'ratelimit-remaining': '2' });
  });

  it("counts exactly what @nestjs/throttler's own canActivate counts, route by route", async () => {
    const routes: Array<[new () => object, string]> = [
      ...(['plain', 'tight', 'skipped', 'dynamic', 'login'] as const).map((h): [new () => object, string] => [
        Routes,
        h,
      ]),
      ...(['inherited', 'overridden', 'skippedHere', 'credentialUnskipped'] as const).map(
        (h): [new () => object, string] => [Decorated, h],
      ),
    ];
    const libraryCanActivate = Object.getPrototypeOf(RateLimitGuard.prototype) as {
      canActivate(this: RateLimitGuard, context: ExecutionContext): Promise<boolean>;
    };
    const trace = async (viaLibrary: boolean): Promise<unknown[]> => {
      storage = new RateLimitStorage(config);
      const seen: unknown[] = [];
      const increment = storage.increment.bind(storage);
      storage.increment = (...args) => {
        seen.push(args.slice(0, 4));
        return increment(...args);
      };
      guard = new RateLimitGuard(rateLimitOptions(config), storage, new Metrics());
      await guard.onModuleInit();
      for (const [controller, handler] of routes) {
        for (let i = 0; i < 4; i++) {
          const context = call(
            handler as Handler,
            { ip: `192.0.2.${routes.findIndex(([, h]) => h === handler)}`, body: { email: `${handler}@example.test` } },
            new Map(),
            controller,
          );
          const outcome = await (
            viaLibrary ? libraryCanActivate.canActivate.call(guard, context) : guard.canActivate(context)
          )
            .then(String)
            .catch((error: unknown) => (error instanceof ProblemException ? String(error.getStatus()) : error));
          seen.push(`${handler} ${i}: ${String(outcome)}`);
        }
      }
      return seen;
    };
    const ours = await trace(false);
    expect(ours).toEqual(await trace(true));
    // The class-level and handler-level values are the ones used (not the module's).
    expect(ours).toContainEqual(['default:ip:192.0.2.5', 30_000, 3, 90_000]);
    expect(ours).toContainEqual(['default:fixed-tracker', 45_000, 1, 90_000]);
  });
});
