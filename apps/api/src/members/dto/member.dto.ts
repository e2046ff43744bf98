import { pageOf, RoleIdsField } from '../../common/dto-fields';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';

export class AddMemberDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'userId must be a UUID' })
  userId!: string;

  @ApiPropertyOptional({ type: [String], description: 'Organization roles; default: the system role member.' })
  @IsOptional()
  @RoleIdsField()
  roleIds?: string[];
}

export class RemoveMemberDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'userId must be a UUID' })
  userId!: string;
}

export class SetRolesDto {
  @ApiProperty({ type: [String], description: 'The complete set of organization roles the member will hold.' })
  @RoleIdsField()
  roleIds!: string[];
}

export class MemberRoleDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'admin' })
  name!: string;

  @ApiProperty()
  isSystem!: boolean;
}

export class MemberDto {
  @ApiProperty({ format: 'uuid' })
  userId!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty({ nullable: true, type: String })
  fullName!: string | null;

  @ApiProperty()
  joinedAt!: Date;

  @ApiProperty({ type: [MemberRoleDto] })
  roles!: MemberRoleDto[];
}

export class MemberPageDto extends pageOf(MemberDto) {}
