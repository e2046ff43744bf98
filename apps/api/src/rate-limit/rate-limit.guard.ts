import { auditActor, sha256, type Principal } from '@app/auth';
import { callKind, graphqlCall, Metrics, ProblemException, routeMetadata, type GraphqlCall } from '@app/common';
import { AppConfig } from '@app/config';
import { HttpStatus, Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  getOptionsToken,
  getStorageToken,
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type Resolvable,
  type ThrottlerGenerateKeyFunction,
  type ThrottlerGetTrackerFunction,
  type ThrottlerModuleOptions,
  type ThrottlerOptions,
  type ThrottlerRequest,
} from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CREDENTIAL_ENDPOINT } from './rate-limit.decorator';
import { RateLimitStorage } from './rate-limit.storage';

type LimitedRequest = FastifyRequest & { principal?: Principal; body?: unknown; rateLimit?: RateLimitState };
interface RateLimitState {
  limit: number;
  remaining: number;
  reset: number;
}

const MINUTE_MS = 60_000;
/**
 * The metadata keys @nestjs/throttler's decorators write (`@SkipThrottle`, `@Throttle`), each
 * followed by the limit's name. The package does not export them; rate-limit.guard.spec checks
 * these against what its decorators write.
 */
export const THROTTLER_METADATA = {
  skip: 'THROTTLER:SKIP',
  limit: 'THROTTLER:LIMIT',
  ttl: 'THROTTLER:TTL',
  blockDuration: 'THROTTLER:BLOCK_DURATION',
  tracker: 'THROTTLER:TRACKER',
  keyGenerator: 'THROTTLER:KEY_GENERATOR',
} as const;

interface LimitValues {
  limit: number;
  ttl: number;
  /** When not configured: as long as the window (ttl). */
  blockDuration: number;
}

/** One named limit as it applies to one route: what its decorators and the module options say. */
interface LimitOnRoute {
  throttler: ThrottlerOptions;
  /** `@SkipThrottle()` for this limit. */
  skipped: boolean;
  skipIf: ((context: ExecutionContext) => boolean) | undefined;
  /** Numbers when configured as numbers; otherwise worked out per request (a function of it). */
  values: LimitValues | ((context: ExecutionContext) => Promise<LimitValues>);
  getTracker: ThrottlerGetTrackerFunction;
  generateKey: ThrottlerGenerateKeyFunction;
}

function toNumber(value: unknown, option: string, name: string): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || Number.isNaN(number)) {
    throw new Error(`Invalid "${option}" for the "${name}" rate limit: ${JSON.stringify(value)}.`);
  }
  return number;
}

/** A limit's three values for a request; `blockDuration` undefined (or null) means the ttl. */
async function limitValues(
  configured: { limit: Resolvable<number>; ttl: Resolvable<number>; blockDuration?: Resolvable<number> | null },
  context: ExecutionContext,
  name: string,
): Promise<LimitValues> {
  const valueOf = async (value: Resolvable<number>, option: string) =>
    toNumber(typeof value === 'function' ? await value(context) : value, option, name);
  const ttl = await valueOf(configured.ttl, 'ttl');
  const { blockDuration } = configured;
  return {
    limit: await valueOf(configured.limit, 'limit'),
    ttl,
    blockDuration: blockDuration == null ? ttl : await valueOf(blockDuration, 'blockDuration'),
  };
}

const COUNTED = Symbol('rate limit counted');
const WEIGHT = Symbol('rate limit weight');

/** How many requests this one counts as (a costly GraphQL operation counts several). Default 1. */
export function weighRequest(request: FastifyRequest, weight: number): void {
  (request as FastifyRequest & { [WEIGHT]?: number })[WEIGHT] = Math.max(1, Math.floor(weight));
}

/** The HTTP request under a GraphQL field, as the throttler reads a REST route's. */
function asHttpCall(context: ExecutionContext, call: GraphqlCall): ExecutionContext {
  const args = [call.request, call.reply];
  const http = { getRequest: () => call.request, getResponse: () => call.reply, getNext: () => undefined };
  return {
    getType: () => 'http',
    getClass: () => context.getClass(),
    getHandler: () => context.getHandler(),
    getArgs: () => args,
    getArgByIndex: (index: number) => args[index],
    switchToHttp: () => http,
    switchToRpc: () => context.switchToRpc(),
    switchToWs: () => context.switchToWs(),
  } as unknown as ExecutionContext;
}

/** Whether the route is a credential endpoint (@CredentialEndpoint), read once per route, not per request. */
const isCredentialEndpoint = routeMetadata(
  (handler) => (Reflect.getMetadata(CREDENTIAL_ENDPOINT, handler) as boolean | undefined) === true,
);

/** The account a credential request targets (email, or the MFA/reset token's hash), if any. */
function targetAccount(request: LimitedRequest): string | undefined {
  const body = (request.body ?? {}) as Record<string, unknown>;
  if (typeof body.email === 'string' && body.email.trim()) return `email:${body.email.trim().toLowerCase()}`;
  for (const field of ['mfa_token', 'token', 'refresh_token']) {
    const value = body[field];
    if (typeof value === 'string' && value) return `${field}:${sha256(value).slice(0, 32)}`;
  }
  return undefined;
}

/** Options for the three limits; see docs/security.md ("Rate limits"). */
export function rateLimitOptions(config: AppConfig): ThrottlerModuleOptions {
  return {
    throttlers: [
      {
        // Everyone: per user or API key when authenticated, per client address otherwise.
        name: 'default',
        ttl: MINUTE_MS,
        limit: config.http.rateLimitPerMinute,
        getTracker: (request: Record<string, unknown>) => {
          const { principal, ip } = request as unknown as LimitedRequest;
          if (principal?.kind === 'user') return `user:${principal.userId}`;
          if (principal?.kind === 'apiKey') return `key:${principal.apiKeyId}`;
          // Any other kind of caller (a module's own): by its audit identity.
          if (principal) return `${auditActor(principal).actorType}:${auditActor(principal).actorId}`;
          return `ip:${ip}`;
        },
      },
      {
        name: 'auth-ip',
        ttl: MINUTE_MS,
        limit: config.http.authRateLimitPerMinute,
        skipIf: (context) => !isCredentialEndpoint(context),
        getTracker: (request: Record<string, unknown>) => `ip:${(request as unknown as LimitedRequest).ip}`,
      },
      {
        // Many addresses against one account (credential stuffing from a botnet).
        name: 'auth-account',
        ttl: MINUTE_MS,
        limit: config.http.authRateLimitPerMinute,
        skipIf: (context) =>
          !isCredentialEndpoint(context) || !targetAccount(context.switchToHttp().getRequest<LimitedRequest>()),
        getTracker: (request: Record<string, unknown>) => targetAccount(request as unknown as LimitedRequest) ?? 'none',
      },
    ],
  };
}

/**
 * @nestjs/throttler's guard with this framework's answers: IETF `RateLimit-Limit/Remaining/Reset`
 * headers for the tightest limit, and 429 as problem+json with `Retry-After`. It runs after
 * authentication (so it can count per principal) and before authorization.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: RateLimitStorage,
    private readonly metrics: Metrics,
  ) {
    // Its metadata is read once per route (limitsOnRoute), not on every request.
    super(options, storage, new Reflector());
  }

  /**
   * A GraphQL operation counts once, as one request to its HTTP route, however many fields it
   * resolves (every field passes the global guards; the first one does the counting).
   */
  override canActivate(context: ExecutionContext): Promise<boolean> {
    if (callKind(context) !== 'graphql') return this.count(context);
    const call = graphqlCall(context);
    const request = call.request as LimitedRequest & { [COUNTED]?: Promise<boolean> };
    request[COUNTED] ??= this.count(asHttpCall(context, call));
    return request[COUNTED];
  }

  private readonly overridesShouldSkip =
    this.shouldSkip !== (ThrottlerGuard.prototype as unknown as { shouldSkip: unknown }).shouldSkip;

  /**
   * Each named limit's decorators (`@SkipThrottle`, `@Throttle`) and options for a route, read once
   * per route: @nestjs/throttler's own canActivate reads them (six lookups per limit) and awaits
   * each value on every request.
   */
  private readonly limitsOnRoute = routeMetadata((handler, controller): LimitOnRoute[] =>
    this.throttlers.map((throttler) => {
      const name = throttler.name ?? 'default';
      const read = <T>(key: string): T | undefined =>
        this.reflector.getAllAndOverride<T | undefined>(`${key}${name}`, [handler, controller]);
      const configured = {
        limit: read<Resolvable<number>>(THROTTLER_METADATA.limit) ?? throttler.limit,
        ttl: read<Resolvable<number>>(THROTTLER_METADATA.ttl) ?? throttler.ttl,
        blockDuration: read<Resolvable<number>>(THROTTLER_METADATA.blockDuration) ?? throttler.blockDuration,
      };
      const perRequest = Object.values(configured).some((value) => typeof value === 'function');
      return {
        throttler,
        skipped: read<boolean>(THROTTLER_METADATA.skip) === true,
        skipIf: throttler.skipIf ?? this.commonOptions.skipIf,
        // Numbers are checked here, once; functions of the request are called on every request.
        values: perRequest
          ? (context: ExecutionContext) => limitValues(configured, context, name)
          : {
              limit: toNumber(configured.limit, 'limit', name),
              ttl: toNumber(configured.ttl, 'ttl', name),
              blockDuration: toNumber(configured.blockDuration ?? configured.ttl, 'blockDuration', name),
            },
        getTracker:
          read<ThrottlerGetTrackerFunction>(THROTTLER_METADATA.tracker) ??
          throttler.getTracker ??
          (this.commonOptions.getTracker as ThrottlerGetTrackerFunction),
        generateKey:
          read<ThrottlerGenerateKeyFunction>(THROTTLER_METADATA.keyGenerator) ??
          throttler.generateKey ??
          (this.commonOptions.generateKey as ThrottlerGenerateKeyFunction),
      };
    }),
  );

  /** What ThrottlerGuard.canActivate does, from the route's plan: every limit that applies counts the request. */
  private async count(context: ExecutionContext): Promise<boolean> {
    // ThrottlerGuard's hook for subclasses; asked only when a subclass overrides it.
    if (this.overridesShouldSkip && (await this.shouldSkip(context))) return true;
    for (const route of this.limitsOnRoute(context)) {
      if (route.skipped || route.skipIf?.(context)) continue;
      // Configured numbers need no wait.
      const values = typeof route.values === 'function' ? await route.values(context) : route.values;
      const allowed = await this.handleRequest({
        context,
        ...values,
        throttler: route.throttler,
        getTracker: route.getTracker,
        generateKey: route.generateKey,
      });
      if (!allowed) return false;
    }
    return true;
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, throttler, blockDuration, getTracker, generateKey } = props;
    const request = context.switchToHttp().getRequest<LimitedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const found = getTracker(request, context);
    const tracker = typeof found === 'string' ? found : await found;
    const key = generateKey(context, tracker, throttler.name ?? 'default');
    const weight = (request as LimitedRequest & { [WEIGHT]?: number })[WEIGHT] ?? 1;
    // Counting ahead only for the general limit, whose key is the caller itself; never for the
    // credential limits, keyed by address and by the account a sign-in targets.
    const record = await (this.storageService as RateLimitStorage).increment(
      key,
      ttl,
      limit,
      blockDuration,
      weight,
      throttler.name === 'default',
    );
    if (record.isBlocked) {
      this.metrics.rateLimited.inc({ limit: throttler.name ?? 'default' });
      const retryAfter = Math.max(1, record.timeToBlockExpire);
      void reply.header('retry-after', String(retryAfter));
      this.expose(reply, { limit, remaining: 0, reset: retryAfter });
      throw new ProblemException({
        status: HttpStatus.TOO_MANY_REQUESTS,
        slug: 'rate-limited',
        title: 'Too Many Requests',
        detail: `Too many requests; retry in ${retryAfter} s.`,
      });
    }
    // Show the limit the caller is closest to.
    const state = { limit, remaining: Math.max(0, limit - record.totalHits), reset: record.timeToExpire };
    if (!request.rateLimit || state.remaining < request.rateLimit.remaining) {
      request.rateLimit = state;
      this.expose(reply, state);
    }
    return true;
  }

  /** Keys are per throttler and tracker only: the general limit spans all routes. */
  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }

  private expose(reply: FastifyReply, state: RateLimitState): void {
    void reply.header('ratelimit-limit', String(state.limit));
    void reply.header('ratelimit-remaining', String(state.remaining));
    void reply.header('ratelimit-reset', String(state.reset));
  }
}

export const RATE_LIMIT_PROVIDERS = [
  RateLimitStorage,
  { provide: getStorageToken(), useExisting: RateLimitStorage },
  { provide: getOptionsToken(), inject: [AppConfig], useFactory: rateLimitOptions },
];
