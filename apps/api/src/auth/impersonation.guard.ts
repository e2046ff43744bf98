import { AuditService } from '@app/audit';
import { IMPERSONATION_SAFE, NO_IMPERSONATION, type Impersonator, type Principal, type UserPrincipal } from '@app/auth';
import { callKind, graphqlCall, graphqlFieldName, ProblemException, requestOf, routeMetadata } from '@app/common';
import { HttpStatus, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What an impersonation session may do: nothing marked @NoImpersonation (the person's credentials
 * and factors), and, unless it was started with write access, nothing but reads (GET/HEAD/OPTIONS
 * and GraphQL queries) and what is marked @ImpersonationSafe (signing out). Each refusal is audited.
 * For everyone else this is one property check.
 */
@Injectable()
export class ImpersonationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  private readonly rule = routeMetadata((handler, controller) => ({
    forbidden: this.reflector.getAllAndOverride<boolean | undefined>(NO_IMPERSONATION, [handler, controller]) === true,
    safe: this.reflector.getAllAndOverride<boolean | undefined>(IMPERSONATION_SAFE, [handler, controller]) === true,
  }));

  /** Synchronous unless the caller is an impersonation (Nest waits for a guard only when it returns a promise). */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const kind = callKind(context);
    if (!kind) return true;
    const request = requestOf(context) as { principal?: Principal; method: string; url: string };
    const principal = request.principal;
    if (principal?.kind !== 'user' || !principal.impersonator) return true;
    return this.check(context, kind, request, principal as UserPrincipal & { impersonator: Impersonator });
  }

  private async check(
    context: ExecutionContext,
    kind: 'http' | 'graphql',
    request: { method: string; url: string },
    principal: UserPrincipal & { impersonator: Impersonator },
  ): Promise<boolean> {
    const { forbidden, safe } = this.rule(context);
    let writes: boolean;
    let what: string;
    if (kind === 'graphql') {
      const call = graphqlCall(context);
      writes = call.info.parentType.name === 'Mutation';
      what = graphqlFieldName(call);
    } else {
      writes = !SAFE_METHODS.has(request.method);
      what = `${request.method} ${request.url.split('?')[0] ?? ''}`;
    }
    const refusal = forbidden
      ? 'impersonation-not-allowed'
      : writes && !safe && !principal.impersonator.write
        ? 'impersonation-read-only'
        : undefined;
    if (!refusal) return true;
    await this.audit.record({
      action: 'auth.impersonation.refused',
      outcome: 'failure',
      actorId: principal.userId,
      targetType: 'user',
      targetId: principal.userId,
      metadata: { reason: refusal, call: what },
    });
    throw new ProblemException({
      status: HttpStatus.FORBIDDEN,
      slug: refusal,
      title: 'Forbidden',
      detail:
        refusal === 'impersonation-not-allowed'
          ? "An impersonation cannot change the person's credentials, factors or sessions, or create credentials in their name."
          : 'This impersonation is read-only: start one with write access to change anything.',
    });
  }
}
