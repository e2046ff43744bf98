import { AuditService } from '@app/audit';
import {
  apiKeyNotAllowed,
  IS_PUBLIC,
  PRINCIPAL_KEY,
  type ApiKeyPrincipal,
  type Principal,
  type UserPrincipal,
} from '@app/auth';
import { isUuid, ProblemException, routeMetadata, ValidationProblemException } from '@app/common';
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
import { PrincipalAuthorizers } from './principal-authorizers';
import {
  PLATFORM_ADMIN_ONLY,
  REQUIRED_PERMISSIONS,
  SELF_PARAMETER,
  TEAM_SCOPED,
} from './require-permissions.decorator';
import { ACCESS_KEY } from './resource-access';
import { TENANT_KEY } from './tenant-context';

type RoutedRequest = FastifyRequest & { principal?: Principal; params: Record<string, string | undefined> };

const READ_ONLY = /:read$/;

/**
 * 404 for an organization the caller does not belong to: the same answer as for one that does not
 * exist, but a distinct class, so the refusal can be counted as a cross-tenant probe.
 */
export class NotAMemberException extends NotFoundException {
  constructor() {
    super('No such organization.');
  }
}

/**
 * The global authorization guard (runs after authentication). A route with @RequirePermissions
 * is scoped by its `:orgId` (and `:teamId`): a caller who is not a member gets 404 (the
 * organization's existence is not revealed), a member without every named permission gets 403.
 * On success the tenant is set in the CLS context for the services. Refusals are audited where
 * every refusal is, whichever layer raised it: by the api's refusal hook (RefusalRecorder).
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
    private readonly authorizers: PrincipalAuthorizers,
  ) {}

  /** What the route's decorators say, read once per route. */
  private readonly rules = routeMetadata((handler, controller) => {
    const targets = [handler, controller];
    return {
      platformAdminOnly: this.reflector.getAllAndOverride<boolean | undefined>(PLATFORM_ADMIN_ONLY, targets) === true,
      required: this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_PERMISSIONS, targets),
      isPublic: this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets) === true,
      teamScoped: this.reflector.getAllAndOverride<boolean | undefined>(TEAM_SCOPED, targets) === true,
      selfParameter: this.reflector.get<string | undefined>(SELF_PARAMETER, handler),
    };
  });

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const rules = this.rules(context);
    const request = context.switchToHttp().getRequest<RoutedRequest>();
    const principal = request.principal;
    if (rules.platformAdminOnly) {
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
    const { required } = rules;
    if (!required) {
      // Routes without a permission act on the signed-in user's own account: for no other kind of caller.
      if (principal && principal.kind !== 'user' && !rules.isPublic) {
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
    // Without a :teamId, a team-scoped route counts a permission held in any team.
    const scope: Scope = teamId ?? (rules.teamScoped ? ANY_TEAM : null);
    if (principal.kind === 'apiKey') return this.authorizeKey(principal, orgId, scope, required);
    if (principal.kind !== 'user') {
      const authorize = this.authorizers.for(principal);
      if (!authorize) throw new NotAMemberException();
      return this.enter(orgId, principal, await authorize(principal, orgId, required));
    }

    const membership = await this.resolver.resolve(principal.userId, orgId);
    if (!membership) {
      if (await this.adminReads(request, principal, required, orgId)) {
        return this.enter(orgId, principal, readAccess(required));
      }
      throw new NotAMemberException();
    }
    if (membership.sso) await this.requireSsoSession(request, principal, orgId, membership.sso);
    const missing = lackingIn(membership, required, scope);
    const { selfParameter } = rules;
    const actingOnSelf = selfParameter !== undefined && request.params[selfParameter] === principal.userId;
    if (missing.length > 0 && !actingOnSelf) {
      if (await this.adminReads(request, principal, missing, orgId)) {
        return this.enter(orgId, principal, withReads(membership, missing));
      }
      throw permissionDenied(missing, `This needs: ${missing.join(', ')}.`);
    }
    return this.enter(orgId, principal, membership);
  }

  /**
   * A key acts in its own organization only (404 elsewhere, as for a non-member), with the
   * permissions it was given that its creator still holds there: a key never outlives its
   * creator's access.
   */
  private async authorizeKey(key: ApiKeyPrincipal, orgId: string, scope: Scope, required: string[]): Promise<true> {
    if (key.organizationId !== orgId) throw new NotAMemberException();
    const notGiven = required.filter((permission) => !key.permissions.has(permission));
    if (notGiven.length > 0) {
      throw permissionDenied(notGiven, `This API key lacks: ${notGiven.join(', ')}.`);
    }
    const creator = key.createdByUserId ? await this.resolver.resolve(key.createdByUserId, orgId) : null;
    const lost = creator ? lackingIn(creator, required, scope) : required;
    if (!creator || lost.length > 0) {
      throw permissionDenied(lost, `Whoever created this API key no longer holds: ${lost.join(', ')}.`);
    }
    return this.enter(orgId, key, keyAccess(key, creator));
  }

  /**
   * The organization enforces single sign-on for this member: only a session signed in through
   * one of its connections counts. The break-glass owner and platform admins may still come in
   * another way, and each such entry is audited.
   */
  private async requireSsoSession(
    request: RoutedRequest,
    principal: UserPrincipal,
    orgId: string,
    sso: NonNullable<Membership['sso']>,
  ): Promise<void> {
    const method = principal.authMethod;
    if (method.startsWith('sso:') && sso.connectionIds.includes(method.slice(4))) return;
    const bypass =
      sso.breakGlassUserId === principal.userId
        ? 'break-glass'
        : (await this.admins.isPlatformAdmin(principal.userId))
          ? 'platform-admin'
          : undefined;
    if (!bypass) {
      throw new ProblemException({
        status: HttpStatus.FORBIDDEN,
        slug: 'sso-required',
        title: 'Forbidden',
        detail: 'This organization requires signing in through its single sign-on: POST /api/v1/sso/discover.',
        extensions: { connectionIds: sso.connectionIds },
      });
    }
    await this.audit.record({
      action: 'sso.enforcement.bypass',
      outcome: 'success',
      organizationId: orgId,
      actorId: principal.userId,
      targetType: 'organization',
      targetId: orgId,
      metadata: { as: bypass, authMethod: method, route: `${request.method} ${request.routeOptions.url ?? ''}` },
    });
  }

  private requireUser(principal: Principal | undefined): UserPrincipal {
    if (!principal) throw new UnauthorizedException('Authentication is required.');
    if (principal.kind !== 'user') throw apiKeyNotAllowed();
    return principal;
  }

  private enter(orgId: string, principal: Principal, access: Membership): true {
    if (this.cls.isActive()) {
      this.cls.set(TENANT_KEY, orgId);
      this.cls.set(PRINCIPAL_KEY, principal);
      this.cls.set(ACCESS_KEY, access);
    }
    return true;
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

const ANY_TEAM = Symbol('any team');
/** Where team roles count: in one team (the route's :teamId), in any team, or nowhere. */
type Scope = string | typeof ANY_TEAM | null;

function lackingIn(membership: Membership, required: string[], scope: Scope): string[] {
  const teams =
    scope === ANY_TEAM
      ? [...membership.teamPermissions.values()]
      : scope
        ? [membership.teamPermissions.get(scope)]
        : [];
  return required.filter(
    (permission) => !membership.permissions.has(permission) && !teams.some((held) => held?.has(permission)),
  );
}

/** A platform admin reading an organization they are not in: those read permissions, everywhere. */
function readAccess(reads: string[]): Membership {
  return { permissions: new Set(reads), teamPermissions: new Map() };
}

function withReads(membership: Membership, reads: string[]): Membership {
  return { ...membership, permissions: new Set([...membership.permissions, ...reads]) };
}

/** An API key reaches what it was given and its creator still holds, where the creator holds it. */
function keyAccess(key: ApiKeyPrincipal, creator: Membership): Membership {
  const given = (held: ReadonlySet<string>) =>
    new Set([...held].filter((permission) => key.permissions.has(permission)));
  return {
    permissions: given(creator.permissions),
    teamPermissions: new Map([...creator.teamPermissions].map(([teamId, held]) => [teamId, given(held)])),
  };
}
