import { AuditService } from '@app/audit';
import { AppConfig } from '@app/config';
import { auditActor, type Principal, type UserPrincipal } from '@app/auth';
import { isUniqueViolation, newId, slugify } from '@app/common';
import { Organization, OrganizationMember, RoleAssignment, TenantTransaction } from '@app/database';
import { PermissionResolver, SYSTEM_ROLES } from '@app/rbac';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Page, Slice } from '../common/page-query.dto';
import { OrganizationDto, type CreateOrganizationDto, type UpdateOrganizationDto } from './dto/organization.dto';

@Injectable()
export class OrganizationsService {
  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly permissions: PermissionResolver,
    private readonly audit: AuditService,
  ) {}

  /** Creates the organization with the caller as its owner, in one unit of work under the new tenant. */
  async create(principal: UserPrincipal, dto: CreateOrganizationDto): Promise<OrganizationDto> {
    const id = newId();
    const slug = dto.slug ?? `${slugify(dto.name, 'org')}-${randomBytes(3).toString('hex')}`;
    let organization: Organization;
    try {
      organization = await this.transactions.run(id, async (manager) => {
        await manager.insert(Organization, { id, name: dto.name, slug });
        await manager.insert(OrganizationMember, { id: newId(), organizationId: id, userId: principal.userId });
        await manager.insert(RoleAssignment, {
          id: newId(),
          organizationId: id,
          userId: principal.userId,
          roleId: SYSTEM_ROLES.owner.id,
          teamId: null,
          grantedByUserId: principal.userId,
        });
        await this.record(manager, principal, id, 'organization.create', { slug });
        return manager.findOneByOrFail(Organization, { id });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictException('This slug is already taken.');
      throw error;
    }
    await this.permissions.invalidate(id, principal.userId);
    return OrganizationDto.from(organization);
  }

  /** The caller's organizations. Cross-tenant by nature: an explicit system read filtered by membership. */
  async listMine(userId: string, page: number, pageSize: number): Promise<Page<OrganizationDto>> {
    const { items, total } = await this.sliceMine(userId, (page - 1) * pageSize, pageSize);
    return { items, total, page, pageSize };
  }

  /** `limit` of the caller's organizations from `offset`, oldest first, and how many there are. */
  async sliceMine(userId: string, offset: number, limit: number): Promise<Slice<OrganizationDto>> {
    const [organizations, total] = await this.transactions.runAsSystem((manager) =>
      manager
        .createQueryBuilder(Organization, 'organization')
        .innerJoin(
          OrganizationMember,
          'member',
          'member.organization_id = organization.id AND member.user_id = :userId',
          {
            userId,
          },
        )
        .orderBy('organization.created_at', 'ASC')
        .addOrderBy('organization.id', 'ASC')
        .skip(offset)
        .take(limit)
        .getManyAndCount(),
    );
    return { items: organizations.map((o) => OrganizationDto.from(o)), total };
  }

  async get(organizationId: string): Promise<OrganizationDto> {
    const organization = await this.transactions.run(organizationId, (manager) =>
      manager.findOneBy(Organization, { id: organizationId }),
    );
    if (!organization) throw new NotFoundException('No such organization.');
    return OrganizationDto.from(organization);
  }

  async update(principal: Principal, organizationId: string, dto: UpdateOrganizationDto): Promise<OrganizationDto> {
    try {
      const organization = await this.transactions.run(organizationId, async (manager) => {
        const changes = Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined));
        if (Object.keys(changes).length > 0) await manager.update(Organization, { id: organizationId }, changes);
        await this.record(manager, principal, organizationId, 'organization.update', { fields: Object.keys(changes) });
        return manager.findOneByOrFail(Organization, { id: organizationId });
      });
      return OrganizationDto.from(organization);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictException('This slug is already taken.');
      throw error;
    }
  }

  /** Deletes the organization and everything it owns (foreign keys cascade); its audit rows remain. */
  /**
   * Schedules the deletion: from now on the organization answers 410 to everything but an owner's
   * restore (its API keys, members and GraphQL fields included), and the purge job deletes it once
   * ORGANIZATION_DELETION_GRACE has passed.
   */
  async remove(principal: UserPrincipal, organizationId: string): Promise<OrganizationDto> {
    const scheduledFor = new Date(Date.now() + this.config.auth.organizationDeletionGrace * 1000);
    const organization = await this.transactions.run(organizationId, async (manager) => {
      await manager.update(
        Organization,
        { id: organizationId },
        { deletionScheduledFor: scheduledFor, deletionRequestedBy: principal.userId },
      );
      await this.record(manager, principal, organizationId, 'organization.delete_scheduled', {
        deletionScheduledFor: scheduledFor.toISOString(),
      });
      return manager.findOneByOrFail(Organization, { id: organizationId });
    });
    await this.permissions.invalidate(organizationId);
    return OrganizationDto.from(organization);
  }

  /** Calls off a scheduled deletion (409 when none is scheduled). */
  async restore(principal: UserPrincipal, organizationId: string): Promise<OrganizationDto> {
    const organization = await this.transactions.run(organizationId, async (manager) => {
      const current = await manager.findOne(Organization, {
        where: { id: organizationId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!current) throw new NotFoundException('No such organization.');
      if (!current.deletionScheduledFor) {
        throw new ConflictException('This organization is not scheduled for deletion.');
      }
      await manager.update(
        Organization,
        { id: organizationId },
        { deletionScheduledFor: null, deletionRequestedBy: null },
      );
      await this.record(manager, principal, organizationId, 'organization.restore', {
        deletionScheduledFor: current.deletionScheduledFor.toISOString(),
      });
      return manager.findOneByOrFail(Organization, { id: organizationId });
    });
    await this.permissions.invalidate(organizationId);
    return OrganizationDto.from(organization);
  }

  private record(
    manager: EntityManager,
    principal: Principal,
    organizationId: string,
    action: string,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.record(
      {
        action,
        outcome: 'success',
        organizationId,
        ...auditActor(principal),
        targetType: 'organization',
        targetId: organizationId,
        metadata,
      },
      manager,
    );
  }
}
