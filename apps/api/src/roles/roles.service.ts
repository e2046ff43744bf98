import { AuditService } from '@app/audit';
import type { UserPrincipal } from '@app/auth';
import { isUniqueViolation, newId, ProblemException, ValidationProblemException } from '@app/common';
import { Role, RoleAssignment, RolePermission, TenantTransaction } from '@app/database';
import { isPermissionKey, permissionDenied, PermissionResolver, PERMISSIONS, SYSTEM_ROLES } from '@app/rbac';
import { ConflictException, HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import { In, IsNull, type EntityManager } from 'typeorm';
import type { CreateRoleDto, RoleDto, UpdateRoleDto } from './dto/role.dto';

const SYSTEM_NAMES = new Set(Object.values(SYSTEM_ROLES).map((role) => role.name.toLowerCase()));

/**
 * Custom roles of an organization. Nobody puts a permission into a role (or takes one out) that
 * they do not hold; system roles never change; a role still assigned to someone cannot be deleted
 * (reassign first), so deleting a role never silently strips access.
 */
@Injectable()
export class RolesService {
  constructor(
    private readonly transactions: TenantTransaction,
    private readonly permissions: PermissionResolver,
    private readonly audit: AuditService,
  ) {}

  list(orgId: string): Promise<RoleDto[]> {
    return this.transactions.run(orgId, async (manager) => {
      const roles = await manager.find(Role, {
        where: [{ organizationId: IsNull() }, { organizationId: orgId }],
        order: { isSystem: 'DESC', name: 'ASC' },
      });
      return this.describe(manager, roles);
    });
  }

  get(orgId: string, roleId: string): Promise<RoleDto> {
    return this.transactions.run(orgId, async (manager) => {
      const [role] = await this.describe(manager, [await this.findRole(manager, orgId, roleId)]);
      if (!role) throw new NotFoundException('No such role.');
      return role;
    });
  }

  async create(actor: UserPrincipal, orgId: string, dto: CreateRoleDto): Promise<RoleDto> {
    this.assertNameFree(dto.name);
    this.assertValidPermissions(dto.permissions, dto.scope);
    await this.assertHeld(actor, orgId, dto.permissions);
    const id = newId();
    try {
      await this.transactions.run(orgId, async (manager) => {
        await manager.insert(Role, {
          id,
          organizationId: orgId,
          name: dto.name,
          description: dto.description ?? null,
          scope: dto.scope,
          isSystem: false,
        });
        await this.writePermissions(manager, orgId, id, dto.permissions);
        await this.record(manager, actor, orgId, 'role.create', id, { name: dto.name, permissions: dto.permissions });
      });
    } catch (error) {
      throw this.conflictOr(error);
    }
    return this.get(orgId, id);
  }

  async update(actor: UserPrincipal, orgId: string, roleId: string, dto: UpdateRoleDto): Promise<RoleDto> {
    if (dto.name) this.assertNameFree(dto.name);
    try {
      await this.transactions.run(orgId, async (manager) => {
        const role = await this.findCustomRole(manager, orgId, roleId);
        if (dto.permissions) {
          this.assertValidPermissions(dto.permissions, role.scope);
          const current = (await manager.find(RolePermission, { where: { roleId } })).map((p) => p.permissionKey);
          const changed = [
            ...dto.permissions.filter((key) => !current.includes(key)),
            ...current.filter((key) => !dto.permissions?.includes(key)),
          ];
          await this.assertHeld(actor, orgId, changed);
          await manager.delete(RolePermission, { roleId });
          await this.writePermissions(manager, orgId, roleId, dto.permissions);
        }
        const changes = Object.fromEntries(
          Object.entries({ name: dto.name, description: dto.description }).filter(([, value]) => value !== undefined),
        );
        if (Object.keys(changes).length > 0) await manager.update(Role, { id: roleId }, changes);
        await this.record(manager, actor, orgId, 'role.update', roleId, { fields: Object.keys(dto) });
      });
    } catch (error) {
      throw this.conflictOr(error);
    }
    // Everyone holding the role may have gained or lost permissions.
    await this.permissions.invalidate(orgId);
    return this.get(orgId, roleId);
  }

  async remove(actor: UserPrincipal, orgId: string, roleId: string): Promise<void> {
    await this.transactions.run(orgId, async (manager) => {
      await this.findCustomRole(manager, orgId, roleId);
      const assigned = await manager.countBy(RoleAssignment, { roleId });
      if (assigned > 0) {
        throw new ProblemException({
          status: HttpStatus.CONFLICT,
          slug: 'role-in-use',
          title: 'Conflict',
          detail: `The role is assigned ${assigned} time(s): reassign those members first.`,
          extensions: { assignments: assigned },
        });
      }
      const permissions = (await manager.find(RolePermission, { where: { roleId } })).map((p) => p.permissionKey);
      await this.assertHeld(actor, orgId, permissions);
      await this.record(manager, actor, orgId, 'role.delete', roleId, {});
      await manager.delete(Role, { id: roleId });
    });
  }

  private async findRole(manager: EntityManager, orgId: string, roleId: string): Promise<Role> {
    const role = await manager.findOne(Role, {
      where: [
        { id: roleId, organizationId: IsNull() },
        { id: roleId, organizationId: orgId },
      ],
    });
    if (!role) throw new NotFoundException('No such role.');
    return role;
  }

  private async findCustomRole(manager: EntityManager, orgId: string, roleId: string): Promise<Role> {
    const role = await this.findRole(manager, orgId, roleId);
    if (role.isSystem) {
      throw new ProblemException({
        status: HttpStatus.CONFLICT,
        slug: 'system-role',
        title: 'Conflict',
        detail: 'System roles cannot be changed or deleted; create a custom role instead.',
      });
    }
    return role;
  }

  private assertNameFree(name: string): void {
    if (SYSTEM_NAMES.has(name.toLowerCase())) throw new ConflictException('This name belongs to a system role.');
  }

  private assertValidPermissions(keys: string[], scope: 'organization' | 'team'): void {
    const problems = keys.flatMap((key) => {
      if (!isPermissionKey(key)) return [{ field: 'permissions', message: `${key} is not a permission` }];
      const scopes: readonly string[] = PERMISSIONS[key].scopes;
      return scopes.includes(scope)
        ? []
        : [{ field: 'permissions', message: `${key} cannot be given to a ${scope} role` }];
    });
    if (problems.length > 0) throw new ValidationProblemException(problems);
  }

  private async assertHeld(actor: UserPrincipal, orgId: string, keys: string[]): Promise<void> {
    const lacking = await this.permissions.lacking(actor.userId, orgId, keys);
    if (lacking.length > 0) {
      throw permissionDenied(lacking, 'You cannot put into a role (or take out of it) a permission you do not hold.');
    }
  }

  private async writePermissions(manager: EntityManager, orgId: string, roleId: string, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await manager.insert(
      RolePermission,
      keys.map((permissionKey) => ({ roleId, permissionKey, organizationId: orgId })),
    );
  }

  private async describe(manager: EntityManager, roles: Role[]): Promise<RoleDto[]> {
    if (roles.length === 0) return [];
    const grants = await manager.find(RolePermission, { where: { roleId: In(roles.map((r) => r.id)) } });
    return roles.map((role) => ({
      id: role.id,
      name: role.name,
      description: role.description,
      scope: role.scope,
      isSystem: role.isSystem,
      permissions: grants
        .filter((g) => g.roleId === role.id)
        .map((g) => g.permissionKey)
        .sort(),
    }));
  }

  private conflictOr(error: unknown): unknown {
    if (isUniqueViolation(error)) {
      return new ConflictException('A role with this name already exists.');
    }
    return error;
  }

  private record(
    manager: EntityManager,
    actor: UserPrincipal,
    orgId: string,
    action: string,
    roleId: string,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.change(manager, action, orgId, { actorId: actor.userId }, ['role', roleId], metadata);
  }
}
