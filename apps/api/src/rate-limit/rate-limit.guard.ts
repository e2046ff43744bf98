import { auditActor, sha256, type Principal } from '@app/auth';
import {
  callKind,
  graphqlCall,
  Metrics,
  ProblemException,
  routeMetadata,
  StaticRouteReflector,
  type GraphqlCall,
} from '@app/common';
import { AppConfig } from '@app/config';
import { HttpStatus, Injectable, type ExecutionContext } from '@nestjs/common';
import {
  getOptionsToken,
  getStorageToken,
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
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
    // The throttler's per-limit metadata lookups, answered from a cache after each route's first request.
    super(options, storage, new StaticRouteReflector());
  }

  /**
   * A GraphQL operation counts once, as one request to its HTTP route, however many fields it
   * resolves (every field passes the global guards; the first one does the counting).
   */
  override canActivate(context: ExecutionContext): Promise<boolean> {
    if (callKind(context) !== 'graphql') return super.canActivate(context);
    const call = graphqlCall(context);
    const request = call.request as LimitedRequest & { [COUNTED]?: Promise<boolean> };
    request[COUNTED] ??= super.canActivate(asHttpCall(context, call));
    return request[COUNTED];
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, throttler, blockDuration, getTracker, generateKey } = props;
    const request = context.switchToHttp().getRequest<LimitedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const tracker = await getTracker(request, context);
    const key = generateKey(context, tracker, throttler.name ?? 'default');
    const weight = (request as LimitedRequest & { [WEIGHT]?: number })[WEIGHT] ?? 1;
    const record = await (this.storageService as RateLimitStorage).increment(key, ttl, limit, blockDuration, weight);
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
