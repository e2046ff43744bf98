import { Module } from '@nestjs/common';
import { MembersModule } from '../members/members.module';
import { ScimAccess } from './scim-access';
import { ScimGroupsController } from './scim-groups.controller';
import { ScimGroupsService } from './scim-groups.service';
import { ScimTokensController } from './scim-tokens.controller';
import { ScimTokensService } from './scim-tokens.service';
import { ScimController } from './scim.controller';
import { ScimUsersService } from './scim-users.service';

/** Directory sync: an organization's IdP provisions its members over SCIM 2.0 with a SCIM token. */
@Module({
  imports: [MembersModule],
  controllers: [ScimTokensController, ScimGroupsController, ScimController],
  providers: [ScimAccess, ScimTokensService, ScimUsersService, ScimGroupsService],
})
export class ScimModule {}
