import { OmittableField, NoSpoofing } from '../../common/dto-fields';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';

const NAME = /^[a-z0-9][a-z0-9 _.-]{0,98}[a-z0-9]$|^[a-z0-9]$/i;
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateRoleDto {
  @ApiProperty({ example: 'auditor' })
  @Transform(trim)
  @IsString()
  @Matches(NAME, { message: 'name must be 1-100 letters, digits, spaces, dots, dashes or underscores' })
  name!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @NoSpoofing()
  description?: string;

  @ApiProperty({ enum: ['organization', 'team'] })
  @IsIn(['organization', 'team'], { message: 'scope must be organization or team' })
  scope!: 'organization' | 'team';

  @ApiProperty({ example: ['organizations:read', 'audit-logs:read'] })
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsString({ each: true })
  @MinLength(3, { each: true })
  permissions!: string[];
}

export class UpdateRoleDto {
  @ApiPropertyOptional()
  @OmittableField()
  @Transform(trim)
  @IsString()
  @Matches(NAME, { message: 'name must be 1-100 letters, digits, spaces, dots, dashes or underscores' })
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @NoSpoofing()
  description?: string;

  @ApiPropertyOptional({ description: 'The complete new set of permissions.' })
  @OmittableField()
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsString({ each: true })
  permissions?: string[];
}

export class RoleDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ nullable: true, type: String })
  description!: string | null;

  @ApiProperty({ enum: ['organization', 'team'] })
  scope!: string;

  @ApiProperty()
  isSystem!: boolean;

  @ApiProperty({ type: [String] })
  permissions!: string[];
}
