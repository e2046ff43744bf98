import type { User } from '@app/database';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { pageOf } from '../../common/dto-fields';
import { PageQueryDto } from '../../common/page-query.dto';
import { shown, type ShownRow } from '../../common/shown-fields';
import { UserDto } from './user.dto';

/**
 * The account columns AdminUserDto is made of: what reading a user for it selects, so the password
 * hash, MFA secret and recovery data never leave the database on these paths.
 */
export const ADMIN_USER_SHOWN = shown<User>()(
  'id',
  'email',
  'fullName',
  'emailVerifiedAt',
  'mfaEnabled',
  'isPlatformAdmin',
  'createdAt',
  'isActive',
  'lastLoginAt',
);

/** A user as platform admins see it: account state too, still no secrets. */
export class AdminUserDto extends UserDto {
  @ApiProperty({ description: 'false once deactivated: no sign-in, no sessions.' })
  isActive!: boolean;

  @ApiProperty({ nullable: true, type: Date })
  lastLoginAt!: Date | null;

  static fromUser(user: ShownRow<typeof ADMIN_USER_SHOWN>): AdminUserDto {
    return { ...UserDto.from(user), isActive: user.isActive, lastLoginAt: user.lastLoginAt };
  }
}

export class AdminUserPageDto extends pageOf(AdminUserDto) {}

/** What a fellow member of an organization may see of someone. */
export class UserProfileDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty({ nullable: true, type: String })
  fullName!: string | null;
}

export class UserSearchDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Matches part of the email or the name, ignoring case.', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;
}

export class DeactivateQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'Needed when the user is the last active owner of an organization: an active member of each such ' +
      'organization, made owner there in the same step.',
  })
  @IsOptional()
  @IsUUID('all', { message: 'successorId must be a UUID' })
  successorId?: string;
}
