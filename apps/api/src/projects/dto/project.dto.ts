import type { Project, ProjectStatus } from '@app/database';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { DisplayNameField, OmittableField, pageOf, NoSpoofing } from '../../common/dto-fields';
import { listQuery } from '../../common/list-query';

const STATUSES: ProjectStatus[] = ['active', 'archived'];

export class CreateProjectDto {
  @ApiProperty({ example: 'Website relaunch' })
  @DisplayNameField()
  name!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @NoSpoofing()
  description?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: "The owning team; its team roles then count for this project. Absent: the organization's.",
  })
  @IsOptional()
  @IsUUID()
  teamId?: string;
}

export class UpdateProjectDto {
  @ApiPropertyOptional()
  @OmittableField()
  @DisplayNameField()
  name?: string;

  @ApiPropertyOptional({ maxLength: 2000, nullable: true, type: String, description: 'null clears it.' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @NoSpoofing()
  description?: string;

  @ApiPropertyOptional({ enum: STATUSES })
  @OmittableField()
  @IsIn(STATUSES)
  status?: ProjectStatus;

  @ApiPropertyOptional({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'Move to another team (needs projects:update in both), or null for the organization.',
  })
  @IsOptional()
  @IsUUID()
  teamId?: string | null;
}

export class ProjectListQueryDto extends listQuery(['name', 'createdAt', 'updatedAt'], '-createdAt') {
  @ApiPropertyOptional({ format: 'uuid', description: "Only this team's projects." })
  @IsOptional()
  @IsUUID()
  teamId?: string;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: ProjectStatus;

  @ApiPropertyOptional({ description: 'Part of the name (case-insensitive).', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  q?: string;
}

export class ProjectDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  organizationId!: string;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  teamId!: string | null;

  @ApiProperty()
  name!: string;

  @ApiProperty({ nullable: true, type: String })
  description!: string | null;

  @ApiProperty({ enum: STATUSES })
  status!: ProjectStatus;

  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The user or API key that created it.' })
  createdBy!: string | null;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  updatedAt!: Date;

  static from(project: Project): ProjectDto {
    const { id, organizationId, teamId, name, description, status, createdBy, createdAt, updatedAt } = project;
    return { id, organizationId, teamId, name, description, status, createdBy, createdAt, updatedAt };
  }
}

export class ProjectPageDto extends pageOf(ProjectDto) {}
