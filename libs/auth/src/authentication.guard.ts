import { callKind, graphqlCall, IMPERSONATOR_KEY, routeMetadata } from '@app/common';
import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClsService } from 'nestjs-cls';
import { AccessTokenService } from './access-token.service';
import { API_KEY_PREFIX } from './api-key-format';
import { ApiKeyRegistry } from './api-key-registry';
import { CredentialResolvers } from './credential-resolvers';
import { PRINCIPAL_KEY, type Principal, type UserPrincipal } from './principal';
import { IS_PUBLIC } from './public.decorator';
import { SessionRegistry } from './session-registry';

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
  return match?.[1];
}

const IDENTIFIED = Symbol('identified');

type AuthenticatedRequest = FastifyRequest & {
  principal?: Principal;
  [IDENTIFIED]?: Promise<Principal | undefined>;
};

function credentialOf(request: FastifyRequest): string | undefined {
  return apiKeyHeader(request) ?? bearerToken(request);
}

function apiKeyHeader(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  const value = Array.isArray(header) ? header[0] : header;
  return value?.trim() || undefined;
}

/**
 * The global authentication guard, deny by default: a route without @Public() needs a valid
 * access token whose session is still alive (revocation takes effect on the next request), or a
 * live API key (`Authorization: Bearer sak_…` or `X-API-Key: sak_…`).
 * On @Public() routes a valid token still sets the principal; an invalid one is ignored.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: AccessTokenService,
    private readonly sessions: SessionRegistry,
    private readonly apiKeys: ApiKeyRegistry,
    private readonly credentials: CredentialResolvers,
    private readonly cls: ClsService,
  ) {}

  private readonly isPublicRoute = routeMetadata(
    (handler, controller) =>
      this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, [handler, controller]) === true,
  );

  /**
   * A request without a credential is answered at once (true on a public route, 401 elsewhere),
   * without a promise: Nest waits for a guard only when it returns one.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const kind = callKind(context);
    if (!kind) return true;
    const isPublic = this.isPublicRoute(context);
    if (kind === 'graphql') return this.graphqlField(context, isPublic);
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = credentialOf(request);
    if (token)
      return this.identify(request, token).then((principal) => this.decide(context, request, principal, isPublic));
    return this.decide(context, request, undefined, isPublic);
  }

  private decide(
    context: ExecutionContext,
    request: AuthenticatedRequest,
    principal: Principal | undefined,
    isPublic: boolean,
  ): true {
    if (principal || isPublic) return true;
    void context.switchToHttp().getResponse<FastifyReply>().header('www-authenticate', 'Bearer');
    throw this.refusal(request);
  }

  /** Every field of a GraphQL operation passes here; the credential is checked once per request. */
  private async graphqlField(context: ExecutionContext, isPublic: boolean): Promise<boolean> {
    const { request } = graphqlCall(context);
    const principal = await this.once(request);
    if (principal || isPublic) return true;
    throw this.refusal(request);
  }

  private once(request: AuthenticatedRequest): Promise<Principal | undefined> {
    if (!request[IDENTIFIED]) {
      const token = credentialOf(request);
      request[IDENTIFIED] = token ? this.identify(request, token) : Promise.resolve(undefined);
    }
    return request[IDENTIFIED];
  }

  private async identify(request: AuthenticatedRequest, token: string): Promise<Principal | undefined> {
    const principal = await this.authenticate(token);
    if (principal) {
      request.principal = principal;
      if (this.cls.isActive()) {
        this.cls.set(PRINCIPAL_KEY, principal);
        if (principal.kind === 'user' && principal.impersonator) {
          this.cls.set(IMPERSONATOR_KEY, principal.impersonator.userId);
        }
      }
    }
    return principal;
  }

  private refusal(request: AuthenticatedRequest): UnauthorizedException {
    return new UnauthorizedException(
      credentialOf(request)
        ? 'The access token or API key is invalid, expired or revoked.'
        : 'Authentication is required.',
    );
  }

  private async authenticate(token: string): Promise<Principal | undefined> {
    if (token.startsWith(API_KEY_PREFIX)) return this.apiKeys.authenticate(token);
    const resolver = this.credentials.for(token);
    if (resolver) return resolver.authenticate(token);
    const claims = this.tokens.verify(token);
    const session = claims ? await this.sessions.live(claims.sid, claims.sub) : undefined;
    if (!claims || !session) return undefined;
    // The token's actor and the session's must agree: neither can make or drop an impersonation alone.
    if (claims.act?.sub !== session.impersonator?.userId) return undefined;
    const principal: UserPrincipal = {
      kind: 'user',
      userId: claims.sub,
      sessionId: claims.sid,
      tokenId: claims.jti,
      authMethod: session.authMethod,
    };
    if (session.impersonator) principal.impersonator = session.impersonator;
    return principal;
  }
}
