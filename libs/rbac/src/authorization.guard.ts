import { AuditService } from '@app/audit';
import {
  apiKeyNotAllowed,
  auditActor,
  IS_PUBLIC,
  PRINCIPAL_KEY,
  type ApiKeyPrincipal,
  type Principal,
  type UserPrincipal,
} from '@app/auth';
import { isUuid, ProblemException, ValidationProblemException } from '@app/common';
import {
  HttpStatus,
  Injectable,
  NotFoundException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ClsService } from 'nestjs-cls';
import { permissionDenied } from './permission-denied';
import { PermissionResolver, type Membership } from './permission-resolver';
import { PlatformAdmins } from './platform-admins';
import { PLATFORM_ADMIN_ONLY, REQUIRED_PERMISSIONS, SELF_PARAMETER } from './require-permissions.decorator';
import { TENANT_KEY } from './tenant-context';

type RoutedRequest = FastifyRequest & { principal?: Principal; params: Record<string, string | undefined> };

const READ_ONLY = /:read$/;

/**
 * The global authorization guard (runs after authentication). A route with @RequirePermissions
 * is scoped by its `:orgId` (and `:teamId`): a caller who is not a member gets 404 (the
 * organization's existence is not revealed), a member without every named permission gets 403.
 * On success the tenant is set in the CLS context for the services.
 *
 * Platform admins operate the installation: routes marked @RequirePlatformAdmin() are theirs alone,
 * and they may read (never change) any organization's data, each such access audited.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly resolver: PermissionResolver,
    private readonly cls: ClsService,
    private readonly admins: PlatformAdmins,
    private readonly audit: AuditService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    const request = context.switchToHttp().getRequest<RoutedRequest>();
    const principal = request.principal;
    if (this.reflector.getAllAndOverride<boolean | undefined>(PLATFORM_ADMIN_ONLY, targets)) {
      const user = this.requireUser(principal);
      if (!(await this.admins.isPlatformAdmin(user.userId))) {
        throw new ProblemException({
          status: HttpStatus.FORBIDDEN,
          slug: 'platform-admin-required',
          title: 'Forbidden',
          detail: 'Only platform admins may do this.',
        });
      }
      return true;
    }
    const required = this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_PERMISSIONS, targets);
    if (!required) {
      // Routes without a permission act on the signed-in user's own account: not for API keys.
      if (principal?.kind === 'apiKey' && !this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) {
        this.requireUser(principal);
      }
      return true;
    }
    if (!principal) throw new UnauthorizedException('Authentication is required.');
    const { orgId, teamId } = request.params;
    if (!orgId) throw new Error('@RequirePermissions needs an :orgId route parameter.');
    const invalid = [
      ...(isUuid(orgId) ? [] : [{ field: 'orgId', message: 'orgId must be a UUID' }]),
      ...(teamId === undefined || isUuid(teamId) ? [] : [{ field: 'teamId', message: 'teamId must be a UUID' }]),
    ];
    if (invalid.length > 0) throw new ValidationProblemException(invalid);
    if (principal.kind === 'apiKey') return this.authorizeKey(request, principal, orgId, teamId, required);

    const membership = await this.resolver.resolve(principal.userId, orgId);
    if (!membership) {
      if (await this.adminReads(request, principal, required, orgId)) return this.enter(orgId, principal);
      throw new NotFoundException('No such organization.');
    }
    const missing = lackingIn(membership, required, teamId);
    const selfParameter = this.reflector.get<string | undefined>(SELF_PARAMETER, context.getHandler());
    const actingOnSelf = selfParameter !== undefined && request.params[selfParameter] === principal.userId;
    if (missing.length > 0 && !actingOnSelf && !(await this.adminReads(request, principal, missing, orgId))) {
      await this.recordDenial(request, principal, orgId, missing);
      throw permissionDenied(missing, `This needs: ${missing.join(', ')}.`);
    }
    return this.enter(orgId, principal);
  }

  /**
   * A key acts in its own organization only (404 elsewhere, as for a non-member), with the
   * permissions it was given that its creator still holds there: a key never outlives its
   * creator's access.
   */
  private async authorizeKey(
    request: RoutedRequest,
    key: ApiKeyPrincipal,
    orgId: string,
    teamId: string | undefined,
    required: string[],
  ): Promise<true> {
    if (key.organizationId !== orgId) throw new NotFoundException('No such organization.');
    const notGiven = required.filter((permission) => !key.permissions.has(permission));
    if (notGiven.length > 0) {
      await this.recordDenial(request, key, orgId, notGiven);
      throw permissionDenied(notGiven, `This API key lacks: ${notGiven.join(', ')}.`);
    }
    const creator = key.createdByUserId ? await this.resolver.resolve(key.createdByUserId, orgId) : null;
    const lost = creator ? lackingIn(creator, required, teamId) : required;
    if (lost.length > 0) {
      await this.recordDenial(request, key, orgId, lost);
      throw permissionDenied(lost, `Whoever created this API key no longer holds: ${lost.join(', ')}.`);
    }
    return this.enter(orgId, key);
  }

  private requireUser(principal: Principal | undefined): UserPrincipal {
    if (!principal) throw new UnauthorizedException('Authentication is required.');
    if (principal.kind !== 'user') throw apiKeyNotAllowed();
    return principal;
  }

  private enter(orgId: string, principal: Principal): true {
    if (this.cls.isActive()) {
      this.cls.set(TENANT_KEY, orgId);
      this.cls.set(PRINCIPAL_KEY, principal);
    }
    return true;
  }

  /** A refused attempt on a tenant route leaves a trace in that organization's log. */
  private recordDenial(request: RoutedRequest, principal: Principal, orgId: string, missing: string[]): Promise<void> {
    return this.audit.record({
      action: 'access.denied',
      outcome: 'denied',
      organizationId: orgId,
      ...auditActor(principal),
      targetType: 'route',
      targetId: `${request.method} ${request.routeOptions.url ?? ''}`.slice(0, 100),
      metadata: { missingPermissions: missing },
    });
  }

  /** A platform admin may read any organization; the access is audited before it happens. */
  private async adminReads(
    request: RoutedRequest,
    principal: UserPrincipal,
    needed: string[],
    orgId: string,
  ): Promise<boolean> {
    if (!needed.every((permission) => READ_ONLY.test(permission))) return false;
    if (!(await this.admins.isPlatformAdmin(principal.userId))) return false;
    await this.audit.record({
      action: 'platform-admin.access',
      outcome: 'success',
      organizationId: orgId,
      actorId: principal.userId,
      targetType: 'organization',
      targetId: orgId,
      metadata: { method: request.method, route: request.routeOptions.url, permissions: needed },
    });
    return true;
  }
}

function lackingIn(membership: Membership, required: string[], teamId: string | undefined): string[] {
  const inTeam = teamId ? membership.teamPermissions.get(teamId) : undefined;
  return required.filter((permission) => !membership.permissions.has(permission) && !inTeam?.has(permission));
}
