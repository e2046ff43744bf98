import type { Organization } from '@app/database';
import { DisplayNameField, OmittableField, SlugField, pageOf } from '../../common/dto-fields';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';

export class CreateOrganizationDto {
  @ApiProperty({ example: 'Acme Inc.' })
  @DisplayNameField()
  name!: string;

  @ApiPropertyOptional({
    example: 'acme',
    description: 'Lower-case letters, digits and dashes; made from the name when absent.',
  })
  @IsOptional()
  @SlugField()
  slug?: string;
}

export class UpdateOrganizationDto {
  @ApiPropertyOptional({ example: 'Acme Corporation' })
  @OmittableField()
  @DisplayNameField()
  name?: string;

  @ApiPropertyOptional({ example: 'acme-corp' })
  @OmittableField()
  @SlugField()
  slug?: string;
}

export class OrganizationDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty()
  slug!: string;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  updatedAt!: Date;

  @ApiProperty({
    nullable: true,
    type: Date,
    description: 'Set while its deletion is scheduled: it is purged then, unless an owner restores it.',
  })
  deletionScheduledFor!: Date | null;

  static from(organization: Organization): OrganizationDto {
    const { id, name, slug, createdAt, updatedAt, deletionScheduledFor } = organization;
    return { id, name, slug, createdAt, updatedAt, deletionScheduledFor: deletionScheduledFor ?? null };
  }
}

export class OrganizationPageDto extends pageOf(OrganizationDto) {}

export class PermissionDto {
  @ApiProperty({ example: 'teams:create' })
  key!: string;

  @ApiProperty()
  description!: string;

  @ApiProperty({ example: ['organization'] })
  scopes!: string[];

  @ApiProperty({ description: 'Whether an API key may hold it (access-management permissions are for people only).' })
  apiKeys!: boolean;
}
