import { AuditService } from '@app/audit';
import { auditActor, type Principal } from '@app/auth';
import { Project, TenantTransaction } from '@app/database';
import { Injectable } from '@nestjs/common';
import type { FindOptionsWhere } from 'typeorm';
import { containing } from '../common/list-query';
import type { Page } from '../common/page-query.dto';
import { TenantResources } from '../common/tenant-resources';
import { ProjectDto, type CreateProjectDto, type ProjectListQueryDto, type UpdateProjectDto } from './dto/project.dto';

/** The example resource: everything generic comes from TenantResources; only the fields are its own. */
@Injectable()
export class ProjectsService extends TenantResources<Project> {
  constructor(transactions: TenantTransaction, audit: AuditService) {
    super(transactions, audit, {
      entity: Project,
      name: 'project',
      permissions: {
        create: 'projects:create',
        read: 'projects:read',
        update: 'projects:update',
        delete: 'projects:delete',
      },
      teamScoped: true,
    });
  }

  async list(orgId: string, query: ProjectListQueryDto): Promise<Page<ProjectDto>> {
    const where: FindOptionsWhere<Project> = {
      ...(query.teamId ? { teamId: query.teamId } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.q ? { name: containing(query.q) } : {}),
    };
    const page = await this.findPage(orgId, query, where);
    return { ...page, items: page.items.map((project) => ProjectDto.from(project)) };
  }

  async get(orgId: string, id: string): Promise<ProjectDto> {
    return ProjectDto.from(await this.findOne(orgId, id));
  }

  async create(actor: Principal, orgId: string, dto: CreateProjectDto): Promise<ProjectDto> {
    const project = await this.insert(actor, orgId, {
      name: dto.name,
      description: dto.description ?? null,
      teamId: dto.teamId ?? null,
      createdBy: auditActor(actor).actorId,
    });
    return ProjectDto.from(project);
  }

  async update(actor: Principal, orgId: string, id: string, dto: UpdateProjectDto): Promise<ProjectDto> {
    return ProjectDto.from(await this.change(actor, orgId, id, dto));
  }

  remove(actor: Principal, orgId: string, id: string): Promise<void> {
    return this.destroy(actor, orgId, id);
  }
}
