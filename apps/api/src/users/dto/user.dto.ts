import type { User } from '@app/database';
import { ApiProperty } from '@nestjs/swagger';

/** The current user as the api shows it: no hashes, secrets or counters. */
export class UserDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty({ nullable: true, type: String })
  fullName!: string | null;

  @ApiProperty()
  emailVerified!: boolean;

  @ApiProperty()
  mfaEnabled!: boolean;

  @ApiProperty({ description: 'Platform admin: runs the whole installation (users, jobs, read-only tenant access).' })
  isPlatformAdmin!: boolean;

  @ApiProperty()
  createdAt!: Date;

  static from(
    user: Pick<User, 'id' | 'email' | 'fullName' | 'emailVerifiedAt' | 'mfaEnabled' | 'isPlatformAdmin' | 'createdAt'>,
  ): UserDto {
    return {
      id: user.id,
      email: user.email,
      fullName: user.fullName,
      emailVerified: user.emailVerifiedAt !== null,
      mfaEnabled: user.mfaEnabled,
      isPlatformAdmin: user.isPlatformAdmin,
      createdAt: user.createdAt,
    };
  }
}
