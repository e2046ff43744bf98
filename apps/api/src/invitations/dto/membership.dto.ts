import { ApiProperty } from '@nestjs/swagger';
import { MemberRoleDto } from '../../members/dto/member.dto';
import { InvitingOrganizationDto } from './invitation.dto';

/** The membership an accepted invitation created. */
export class MembershipDto {
  @ApiProperty({ type: InvitingOrganizationDto })
  organization!: InvitingOrganizationDto;

  @ApiProperty({ type: [MemberRoleDto] })
  roles!: MemberRoleDto[];

  @ApiProperty()
  joinedAt!: Date;
}
