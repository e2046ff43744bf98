import { AuditService } from '@app/audit';
import {
  apiKeyNotAllowed,
  IS_PUBLIC,
  PRINCIPAL_KEY,
  type ApiKeyPrincipal,
  type Principal,
  type UserPrincipal,
} from '@app/auth';
import {
  callKind,
  graphqlCall,
  graphqlFieldName,
  isUuid,
  ProblemException,
  routeMetadata,
  routeUrlOf,
  ValidationProblemException,
  type GraphqlCall,
} from '@app/common';
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
  DURING_DELETION,
  SELF_PARAMETER,
  TEAM_SCOPED,
} from './require-permissions.decorator';
import { grantField, noteRefusalScope } from './graphql-grants';
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
      duringDeletion: this.reflector.get<boolean | undefined>(DURING_DELETION, handler) === true,
    };
  });

  /**
   * A REST route that names no permission (the caller's own account, or a public route) is decided
   * at once, without a promise: Nest waits for a guard only when it returns one.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const kind = callKind(context);
    if (!kind) return true;
    const rules = this.rules(context);
    if (kind === 'graphql') return this.graphqlField(context, rules);
    if (!rules.required && !rules.platformAdminOnly) {
      return this.ownAccountOnly(rules, context.switchToHttp().getRequest<RoutedRequest>().principal);
    }
    return this.decide(rules, this.httpSite(context));
  }

  private async graphqlField(context: ExecutionContext, rules: RouteRules): Promise<boolean> {
    const call = graphqlCall(context);
    const site = this.graphqlSite(call);
    try {
      return await this.decide(rules, site);
    } catch (error) {
      // A GraphQL refusal is recorded after the operation: remember which field and organization.
      noteRefusalScope(error, { organizationId: site.orgId, field: graphqlFieldName(call) });
      throw error;
    }
  }

  private async decide(rules: RouteRules, site: CallSite): Promise<boolean> {
    const { principal } = site;
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
    if (!required) return this.ownAccountOnly(rules, principal);
    if (!principal) throw new UnauthorizedException('Authentication is required.');
    const { orgId, teamId } = site;
    if (!orgId)
      throw new Error(`${site.route()} names permissions but no organization (:orgId, or an orgId argument).`);
    const invalid = [
      ...(isUuid(orgId) ? [] : [{ field: 'orgId', message: 'orgId must be a UUID' }]),
      ...(teamId === undefined || isUuid(teamId) ? [] : [{ field: 'teamId', message: 'teamId must be a UUID' }]),
    ];
    if (invalid.length > 0) throw new ValidationProblemException(invalid);
    // Without a :teamId, a team-scoped route counts a permission held in any team.
    const scope: Scope = teamId ?? (rules.teamScoped ? ANY_TEAM : null);
    if (principal.kind === 'apiKey') return this.authorizeKey(site, principal, orgId, scope, required);
    if (principal.kind !== 'user') {
      const authorize = this.authorizers.for(principal);
      if (!authorize) throw new NotAMemberException();
      const access = await authorize(principal, orgId, required);
      if (access.deletionScheduledFor && !rules.duringDeletion) throw deletionScheduled(access);
      return site.enter(orgId, principal, access);
    }

    const membership = await site.membership(principal.userId, orgId);
    if (!membership) {
      if (await this.adminReads(site, principal, required, orgId)) {
        return site.enter(orgId, principal, readAccess(required));
      }
      throw new NotAMemberException();
    }
    if (membership.deletionScheduledFor && !rules.duringDeletion) throw deletionScheduled(membership);
    if (membership.sso) await this.requireSsoSession(site, principal, orgId, membership.sso);
    const missing = lackingIn(membership, required, scope);
    const { selfParameter } = rules;
    const actingOnSelf = selfParameter !== undefined && site.value(selfParameter) === principal.userId;
    if (missing.length > 0 && !actingOnSelf) {
      if (await this.adminReads(site, principal, missing, orgId)) {
        return site.enter(orgId, principal, withReads(membership, missing));
      }
      throw permissionDenied(missing, `This needs: ${missing.join(', ')}.`);
    }
    return site.enter(orgId, principal, membership);
  }

  /** Routes without a permission act on the signed-in user's own account: for no other kind of caller. */
  private ownAccountOnly(rules: RouteRules, principal: Principal | undefined): true {
    if (principal && principal.kind !== 'user' && !rules.isPublic) this.requireUser(principal);
    return true;
  }

  /** A REST route: the organization and team are its :orgId and :teamId; the grant goes in the request's context. */
  private httpSite(context: ExecutionContext): CallSite {
    const request = context.switchToHttp().getRequest<RoutedRequest>();
    const { orgId, teamId } = request.params;
    return {
      principal: request.principal,
      orgId,
      teamId,
      route: () => `${request.method} ${routeUrlOf(request) ?? ''}`,
      value: (name) => request.params[name],
      membership: (userId, organizationId) => this.resolver.resolve(userId, organizationId),
      enter: (organizationId, principal, access) => {
        if (this.cls.isActive()) {
          this.cls.set(TENANT_KEY, organizationId);
          this.cls.set(PRINCIPAL_KEY, principal);
          this.cls.set(ACCESS_KEY, access);
        }
        return true;
      },
    };
  }

  /**
   * A GraphQL field: the organization is its `orgId` argument or its parent's `organizationId`
   * (the team likewise: `teamId`). What it was granted is kept for that one field's resolver
   * (grantField), not in the request's context: sibling fields of one operation may be in
   * different organizations and run at the same time. Memberships are resolved once per request,
   * so an operation is authorized against one view of the caller's roles.
   */
  private graphqlSite(call: GraphqlCall): CallSite {
    const request = call.request as GraphqlRequest;
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    // A mutation sees the roles as they are after the mutations before it, not the request's first view.
    const mutation = call.info.parentType.name === 'Mutation';
    const memberships = mutation
      ? new Map<string, Promise<Membership | null>>()
      : (request[MEMBERSHIPS] ??= new Map<string, Promise<Membership | null>>());
    return {
      principal: request.principal,
      // Below the root, the organization is the parent's, never an argument's; the team may narrow it.
      orgId: ROOT_TYPES.has(call.info.parentType.name) ? text(call.args.orgId) : text(call.root?.organizationId),
      teamId: text(call.args.teamId) ?? text(call.root?.teamId),
      route: () => `${request.method} ${routeUrlOf(request) ?? '/graphql'} ${graphqlFieldName(call)}`,
      value: (name) => text(call.args[name]),
      membership: (userId, orgId) => {
        const key = `${userId}:${orgId}`;
        let pending = memberships.get(key);
        if (!pending) {
          pending = this.resolver.resolve(userId, orgId);
          memberships.set(key, pending);
        }
        return pending;
      },
      enter: (orgId, principal, access) => {
        grantField(call.info, { organizationId: orgId, principal, access });
        return true;
      },
    };
  }

  /**
   * A key acts in its own organization only (404 elsewhere, as for a non-member), with the
   * permissions it was given that its creator still holds there: a key never outlives its
   * creator's access.
   */
  private async authorizeKey(
    site: CallSite,
    key: ApiKeyPrincipal,
    orgId: string,
    scope: Scope,
    required: string[],
  ): Promise<true> {
    if (key.organizationId !== orgId) throw new NotAMemberException();
    const notGiven = required.filter((permission) => !key.permissions.has(permission));
    if (notGiven.length > 0) {
      throw permissionDenied(notGiven, `This API key lacks: ${notGiven.join(', ')}.`);
    }
    const creator = key.createdByUserId ? await site.membership(key.createdByUserId, orgId) : null;
    if (creator?.deletionScheduledFor) throw deletionScheduled(creator);
    const lost = creator ? lackingIn(creator, required, scope) : required;
    if (!creator || lost.length > 0) {
      throw permissionDenied(lost, `Whoever created this API key no longer holds: ${lost.join(', ')}.`);
    }
    return site.enter(orgId, key, keyAccess(key, creator));
  }

  /**
   * The organization enforces single sign-on for this member: only a session signed in through
   * one of its connections counts. The break-glass owner and platform admins may still come in
   * another way, and each such entry is audited.
   */
  private async requireSsoSession(
    site: CallSite,
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
      metadata: { as: bypass, authMethod: method, route: site.route() },
    });
  }

  private requireUser(principal: Principal | undefined): UserPrincipal {
    if (!principal) throw new UnauthorizedException('Authentication is required.');
    if (principal.kind !== 'user') throw apiKeyNotAllowed();
    return principal;
  }

  /** A platform admin may read any organization; the access is audited before it happens. */
  private async adminReads(
    site: CallSite,
    principal: UserPrincipal,
    needed: string[],
    orgId: string,
  ): Promise<boolean> {
    if (!needed.every((permission) => READ_ONLY.test(permission))) return false;
    if (!(await this.admins.isPlatformAdmin(principal.userId))) return false;
    const route = site.route();
    await this.audit.record({
      action: 'platform-admin.access',
      outcome: 'success',
      organizationId: orgId,
      actorId: principal.userId,
      targetType: 'organization',
      targetId: orgId,
      metadata: {
        method: route.split(' ')[0],
        route: route.slice(route.indexOf(' ') + 1),
        permissions: needed,
      },
    });
    return true;
  }
}

interface RouteRules {
  platformAdminOnly: boolean;
  required: string[] | undefined;
  isPublic: boolean;
  teamScoped: boolean;
  selfParameter: string | undefined;
  duringDeletion: boolean;
}

/** Where a guarded call came in, and how its grant is handed to the code that serves it. */
interface CallSite {
  principal: Principal | undefined;
  orgId: string | undefined;
  teamId: string | undefined;
  /** "GET /api/v1/organizations/:orgId", "POST /graphql Query.organization": for audit rows (made when asked). */
  route(): string;
  /** A route parameter or GraphQL argument, for @OrSelf. */
  value(name: string): string | undefined;
  membership(userId: string, orgId: string): Promise<Membership | null>;
  enter(orgId: string, principal: Principal, access: Membership): true;
}

const MEMBERSHIPS = Symbol('memberships');
/** The types whose fields are an operation's entry points (their parent is the root value, not an object). */
const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

type GraphqlRequest = FastifyRequest & {
  principal?: Principal;
  [MEMBERSHIPS]?: Map<string, Promise<Membership | null>>;
};

const ANY_TEAM = Symbol('any team');
/** Where team roles count: in one team (the route's :teamId), in any team, or nowhere. */
type Scope = string | typeof ANY_TEAM | null;

/** 410: the organization's deletion is scheduled; only an owner's restore is served until then. */
function deletionScheduled(membership: Membership): ProblemException {
  const when = membership.deletionScheduledFor?.toISOString() ?? '';
  return new ProblemException({
    status: HttpStatus.GONE,
    slug: 'organization-deletion-scheduled',
    title: 'Gone',
    detail: `This organization is scheduled for deletion on ${when}. An owner can restore it until then: POST /api/v1/organizations/{orgId}/restore.`,
    extensions: { deletionScheduledFor: when },
  });
}

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
