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

  static from(organization: Organization): OrganizationDto {
    const { id, name, slug, createdAt, updatedAt } = organization;
    return { id, name, slug, createdAt, updatedAt };
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
