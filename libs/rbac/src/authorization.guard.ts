import { PRINCIPAL_KEY, type Principal } from '@app/auth';
import { isUuid, ValidationProblemException } from '@app/common';
import {
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
import { PermissionResolver } from './permission-resolver';
import { REQUIRED_PERMISSIONS, SELF_PARAMETER } from './require-permissions.decorator';
import { TENANT_KEY } from './tenant-context';

type RoutedRequest = FastifyRequest & { principal?: Principal; params: Record<string, string | undefined> };

/**
 * The global authorization guard (runs after authentication). A route with @RequirePermissions
 * is scoped by its `:orgId` (and `:teamId`): a caller who is not a member gets 404 (the
 * organization's existence is not revealed), a member without every named permission gets 403.
 * On success the tenant is set in the CLS context for the services.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly resolver: PermissionResolver,
    private readonly cls: ClsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const required = this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_PERMISSIONS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!required) return true;
    const request = context.switchToHttp().getRequest<RoutedRequest>();
    if (!request.principal) throw new UnauthorizedException('Authentication is required.');
    const { orgId, teamId } = request.params;
    if (!orgId) throw new Error('@RequirePermissions needs an :orgId route parameter.');
    const invalid = [
      ...(isUuid(orgId) ? [] : [{ field: 'orgId', message: 'orgId must be a UUID' }]),
      ...(teamId === undefined || isUuid(teamId) ? [] : [{ field: 'teamId', message: 'teamId must be a UUID' }]),
    ];
    if (invalid.length > 0) throw new ValidationProblemException(invalid);
    const membership = await this.resolver.resolve(request.principal.userId, orgId);
    if (!membership) throw new NotFoundException('No such organization.');
    const teamPermissions = teamId ? membership.teamPermissions.get(teamId) : undefined;
    const missing = required.filter(
      (permission) => !membership.permissions.has(permission) && !teamPermissions?.has(permission),
    );
    const selfParameter = this.reflector.get<string | undefined>(SELF_PARAMETER, context.getHandler());
    const actingOnSelf = selfParameter !== undefined && request.params[selfParameter] === request.principal.userId;
    if (missing.length > 0 && !actingOnSelf) {
      throw permissionDenied(missing, `This needs: ${missing.join(', ')}.`);
    }
    if (this.cls.isActive()) {
      this.cls.set(TENANT_KEY, orgId);
      this.cls.set(PRINCIPAL_KEY, request.principal);
    }
    return true;
  }
}
