import { PRINCIPAL_KEY } from '@app/auth';
import { graphqlCall, graphqlFieldName } from '@app/common';
import { ACCESS_KEY, fieldGrant, noteRefusalScope, TENANT_KEY } from '@app/rbac';
import {
  applyDecorators,
  Injectable,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Resolver } from '@nestjs/graphql';
import { ClsService } from 'nestjs-cls';
import { catchError, throwError, type Observable } from 'rxjs';

export const TENANT_SCOPED_RESOLVER = 'app:graphql-tenant-scoped';

/**
 * Runs one GraphQL field's resolver in its own request context holding what the authorization
 * guard granted that field (organization, caller, access), as a REST handler runs after the guard
 * set them: services read `TenantContext` and `ResourceAccess` the same way under both APIs.
 * Its own context, because sibling fields of one operation may be in different organizations and
 * run concurrently; the request's shared context never holds a tenant under GraphQL.
 */
@Injectable()
export class TenantScopeInterceptor implements NestInterceptor {
  constructor(private readonly cls: ClsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const info = context.getArgs<[unknown, unknown, unknown, object | undefined]>()[3];
    const grant = info ? fieldGrant(info) : undefined;
    if (!grant) return next.handle();
    // next.handle() binds the resolver to the async context it is called in: this one.
    const handled = this.cls.run({ ifNested: 'inherit' }, () => {
      this.cls.set(TENANT_KEY, grant.organizationId);
      this.cls.set(PRINCIPAL_KEY, grant.principal);
      this.cls.set(ACCESS_KEY, grant.access);
      return next.handle();
    });
    // A service's own refusal (a team check, no escalation) is about this organization too.
    const field = graphqlFieldName(graphqlCall(context));
    return handled.pipe(
      catchError((error: unknown) => {
        noteRefusalScope(error, { organizationId: grant.organizationId, field });
        return throwError(() => error);
      }),
    );
  }
}

/**
 * `@Resolver` for this api's GraphQL types: every resolver class goes through it, so every field
 * that names permissions runs in its granted scope (the schema inventory test checks the marker).
 */
export function ApiResolver(of?: Parameters<typeof Resolver>[0]): ClassDecorator {
  return applyDecorators(of ? Resolver(of) : Resolver(), UseInterceptors(TenantScopeInterceptor), (target: object) =>
    Reflect.defineMetadata(TENANT_SCOPED_RESOLVER, true, target),
  );
}
