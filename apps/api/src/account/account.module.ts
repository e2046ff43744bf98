import { Module } from '@nestjs/common';
import { IdentityModule } from '../auth/identity.module';
import { MembersModule } from '../members/members.module';
import { AccountErasureService } from './account-erasure.service';
import { AccountController } from './account.controller';

/** The account's lifecycle beyond sign-in: erasure (and, next, export) of one's own data. */
@Module({
  imports: [IdentityModule, MembersModule],
  controllers: [AccountController],
  providers: [AccountErasureService],
})
export class AccountModule {}
