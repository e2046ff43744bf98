import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { EmailField, pageOf, RoleIdsField } from '../../common/dto-fields';
import { PageQueryDto } from '../../common/page-query.dto';
import { MemberRoleDto } from '../../members/dto/member.dto';

export const INVITATION_STATUSES = ['pending', 'accepted', 'revoked', 'expired'] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

export class CreateInvitationDto {
  @EmailField()
  email!: string;

  @ApiPropertyOptional({
    type: [String],
    description: 'Organization roles the invitee gets on accepting; default: the system role member.',
  })
  @IsOptional()
  @RoleIdsField()
  roleIds?: string[];
}

export class InvitationQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: INVITATION_STATUSES })
  @IsOptional()
  @IsIn(INVITATION_STATUSES, { message: `status must be one of ${INVITATION_STATUSES.join(', ')}` })
  status?: InvitationStatus;
}

export class AcceptInvitationDto {
  @ApiProperty({ description: 'The token from the invitation email (starts with inv_).' })
  @IsString()
  @MaxLength(200)
  @Matches(/^inv_[A-Za-z0-9_-]+$/, { message: 'token is not an invitation token' })
  token!: string;
}

export class InvitationDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  organizationId!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty({ type: [MemberRoleDto], description: 'Roles granted on acceptance (deleted roles are dropped).' })
  roles!: MemberRoleDto[];

  @ApiProperty({ enum: INVITATION_STATUSES })
  status!: InvitationStatus;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  invitedByUserId!: string | null;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  expiresAt!: Date;

  @ApiProperty({ nullable: true, type: Date })
  acceptedAt!: Date | null;

  @ApiProperty({ nullable: true, type: Date })
  revokedAt!: Date | null;
}

export class InvitationPageDto extends pageOf(InvitationDto) {}

export class InvitingOrganizationDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty()
  slug!: string;
}

/** An invitation as its invitee sees it: where to, which roles, from whom. */
export class ReceivedInvitationDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ type: InvitingOrganizationDto })
  organization!: InvitingOrganizationDto;

  @ApiProperty({ type: [MemberRoleDto] })
  roles!: MemberRoleDto[];

  @ApiProperty({ nullable: true, type: String })
  invitedByName!: string | null;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  expiresAt!: Date;
}
