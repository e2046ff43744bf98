import { CurrentPrincipal, type Principal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePermissions, TeamScoped } from '@app/rbac';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { CreateProjectDto, ProjectDto, ProjectListQueryDto, ProjectPageDto, UpdateProjectDto } from './dto/project.dto';
import { ProjectsService } from './projects.service';

const TEAM_NOTE = 'Organization-wide, or in the project’s team.';

/** The example resource's routes: a permission each, team roles counting for team projects. */
@ApiTags('projects')
@TeamScoped()
@Controller('organizations/:orgId/projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Post()
  @RequirePermissions('projects:create')
  @ApiOperation({ summary: 'Create a project', description: `Needs projects:create. ${TEAM_NOTE}` })
  @ApiCreatedResponse({ type: ProjectDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  create(
    @CurrentPrincipal() p: Principal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: CreateProjectDto,
  ): Promise<ProjectDto> {
    return this.projects.create(p, orgId, dto);
  }

  @Get()
  @RequirePermissions('projects:read')
  @ApiOperation({
    summary: 'Projects of the organization',
    description: 'Needs projects:read; with it only in some teams, lists those teams’ projects. Filter, sort, page.',
  })
  @ApiOkResponse({ type: ProjectPageDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  list(@UuidParam('orgId') orgId: string, @Query() query: ProjectListQueryDto): Promise<ProjectPageDto> {
    return this.projects.list(orgId, query);
  }

  @Get(':projectId')
  @RequirePermissions('projects:read')
  @ApiOperation({ summary: 'A project', description: `Needs projects:read. ${TEAM_NOTE}` })
  @ApiOkResponse({ type: ProjectDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  get(@UuidParam('orgId') orgId: string, @UuidParam('projectId') projectId: string): Promise<ProjectDto> {
    return this.projects.get(orgId, projectId);
  }

  @Patch(':projectId')
  @RequirePermissions('projects:update')
  @ApiOperation({ summary: 'Change a project', description: `Needs projects:update. ${TEAM_NOTE}` })
  @ApiOkResponse({ type: ProjectDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  update(
    @CurrentPrincipal() p: Principal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('projectId') projectId: string,
    @Body() dto: UpdateProjectDto,
  ): Promise<ProjectDto> {
    return this.projects.update(p, orgId, projectId, dto);
  }

  @Delete(':projectId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions('projects:delete')
  @ApiOperation({ summary: 'Delete a project', description: `Needs projects:delete. ${TEAM_NOTE}` })
  @ApiNoContentResponse()
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async remove(
    @CurrentPrincipal() p: Principal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('projectId') projectId: string,
  ): Promise<void> {
    await this.projects.remove(p, orgId, projectId);
  }
}
