import type { ScimToken } from '@app/database';
import { ApiProperty } from '@nestjs/swagger';
import { DisplayNameField } from '../../common/dto-fields';
import { shown, type ShownRow } from '../../common/shown-fields';

/** What a token's listing shows and reads: never its hash. */
export const SCIM_TOKEN_SHOWN = shown<ScimToken>()(
  'id',
  'name',
  'prefix',
  'createdByUserId',
  'createdAt',
  'lastUsedAt',
  'revokedAt',
);

export class CreateScimTokenDto {
  @ApiProperty({ example: 'Okta provisioning' })
  @DisplayNameField()
  name!: string;
}

export class ScimTokenDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ description: 'The non-secret lookup id (the token starts scim_<prefix>_).' })
  prefix!: string;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  createdByUserId!: string | null;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty({ nullable: true, type: Date })
  lastUsedAt!: Date | null;

  @ApiProperty({ nullable: true, type: Date })
  revokedAt!: Date | null;

  static from(row: ShownRow<typeof SCIM_TOKEN_SHOWN>): ScimTokenDto {
    return {
      id: row.id,
      name: row.name,
      prefix: row.prefix,
      createdByUserId: row.createdByUserId,
      createdAt: row.createdAt,
      lastUsedAt: row.lastUsedAt,
      revokedAt: row.revokedAt,
    };
  }
}

export class CreatedScimTokenDto extends ScimTokenDto {
  @ApiProperty({ description: 'The bearer token for the IdP: shown this once, never again.' })
  token!: string;

  @ApiProperty({ description: 'The SCIM base URL to give the IdP.' })
  baseUrl!: string;
}
