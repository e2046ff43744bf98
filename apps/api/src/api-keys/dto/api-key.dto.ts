import type { ApiKey } from '@app/database';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsDate,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { DisplayNameField, pageOf } from '../../common/dto-fields';
import { shown, type ShownRow } from '../../common/shown-fields';

/** What a key's listing shows and reads: never its hash. */
export const API_KEY_SHOWN = shown<ApiKey>()(
  'id',
  'name',
  'prefix',
  'permissions',
  'expiresAt',
  'lastUsedAt',
  'revokedAt',
  'createdByUserId',
  'createdAt',
);

export type ApiKeyStatus = 'active' | 'expired' | 'revoked';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'CI deploys', maxLength: 200 })
  @DisplayNameField()
  name!: string;

  @ApiProperty({
    type: [String],
    example: ['teams:read'],
    description: 'From GET /permissions where apiKeys is true; each must be one you hold in this organization.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  permissions!: string[];

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'In the future; omitted: never expires.' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'expiresAt must be an ISO 8601 date-time' })
  expiresAt?: Date;
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ example: 'sak_3f9a0c1d2e4b5a69', description: 'Identifies the key in listings and logs; not secret.' })
  prefix!: string;

  @ApiProperty({ type: [String] })
  permissions!: string[];

  @ApiProperty({ enum: ['active', 'expired', 'revoked'] })
  status!: ApiKeyStatus;

  @ApiProperty({ nullable: true, type: Date })
  expiresAt!: Date | null;

  @ApiProperty({ nullable: true, type: Date, description: 'Recorded within about a minute.' })
  lastUsedAt!: Date | null;

  @ApiProperty({ nullable: true, type: Date })
  revokedAt!: Date | null;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  createdByUserId!: string | null;

  @ApiProperty()
  createdAt!: Date;

  static from(row: ShownRow<typeof API_KEY_SHOWN>, now = Date.now()): ApiKeyDto {
    return {
      id: row.id,
      name: row.name,
      prefix: row.prefix,
      permissions: row.permissions,
      status: row.revokedAt ? 'revoked' : row.expiresAt && row.expiresAt.getTime() <= now ? 'expired' : 'active',
      expiresAt: row.expiresAt,
      lastUsedAt: row.lastUsedAt,
      revokedAt: row.revokedAt,
      createdByUserId: row.createdByUserId,
      createdAt: row.createdAt,
    };
  }
}

/** The creation response: the only time the key itself is shown. */
export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({
    example: 'sak_3f9a0c1d2e4b5a69_…',
    description: 'The secret. Shown once: store it now. Send as Authorization: Bearer <key> or X-API-Key: <key>.',
  })
  key!: string;
}

export class ApiKeyPageDto extends pageOf(ApiKeyDto) {}
