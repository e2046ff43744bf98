import type { Team } from '@app/database';
import { DisplayNameField, OmittableField, SlugField, pageOf, NoSpoofing } from '../../common/dto-fields';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class CreateTeamDto {
  @ApiProperty({ example: 'Platform' })
  @DisplayNameField()
  name!: string;

  @ApiPropertyOptional({
    example: 'platform',
    description: 'Unique in the organization; made from the name when absent.',
  })
  @IsOptional()
  @SlugField()
  slug?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @NoSpoofing()
  description?: string;
}

export class UpdateTeamDto {
  @ApiPropertyOptional()
  @OmittableField()
  @DisplayNameField()
  name?: string;

  @ApiPropertyOptional()
  @OmittableField()
  @SlugField()
  slug?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @NoSpoofing()
  description?: string;
}

export class TeamDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  organizationId!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty()
  slug!: string;

  @ApiProperty({ nullable: true, type: String })
  description!: string | null;

  @ApiProperty()
  createdAt!: Date;

  /** The shown fields of a Team, or of a row read under TeamDto's names (the teams page). */
  static from(team: Pick<Team, 'id' | 'organizationId' | 'name' | 'slug' | 'description' | 'createdAt'>): TeamDto {
    const { id, organizationId, name, slug, description, createdAt } = team;
    return { id, organizationId, name, slug, description, createdAt };
  }
}

export class TeamPageDto extends pageOf(TeamDto) {}
