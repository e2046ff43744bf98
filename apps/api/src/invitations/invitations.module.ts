import { Module } from '@nestjs/common';
import { IdentityModule } from '../auth/identity.module';
import { MembersModule } from '../members/members.module';
import { InvitationsController } from './invitations.controller';
import { InvitationsService } from './invitations.service';
import { OrganizationInvitationsController } from './organization-invitations.controller';

@Module({
  imports: [IdentityModule, MembersModule],
  controllers: [OrganizationInvitationsController, InvitationsController],
  providers: [InvitationsService],
  exports: [InvitationsService],
})
export class InvitationsModule {}
