import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsUUID, ValidateIf } from 'class-validator';

/** A group the organization's IdP provisions, as an administrator sees it. */
export class ScimGroupDto {
  @ApiProperty({ format: 'uuid', description: 'The SCIM id (what the IdP calls the group).' })
  id!: string;

  @ApiProperty()
  displayName!: string;

  @ApiProperty({ nullable: true, type: String })
  externalId!: string | null;

  @ApiProperty({ format: 'uuid', description: 'The team the group is.' })
  teamId!: string;

  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The organization role it maps to.' })
  roleId!: string | null;

  @ApiProperty({ description: 'How many Users the IdP lists in it.' })
  members!: number;

  @ApiProperty()
  updatedAt!: Date;
}

export class SetScimGroupRoleDto {
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description:
      'An organization role (not owner, not member) the group’s active members hold while they are in it; ' +
      'null stops the mapping and takes the role back from them.',
  })
  @IsDefined({ message: 'roleId is required (null to stop mapping)' })
  @ValidateIf((dto: SetScimGroupRoleDto) => dto.roleId !== null)
  @IsUUID('all', { message: 'roleId must be a UUID or null' })
  roleId!: string | null;
}
