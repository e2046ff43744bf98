import { Module } from '@nestjs/common';
import { IdentityModule } from '../auth/identity.module';
import { MembersModule } from '../members/members.module';
import { AccountErasureService } from './account-erasure.service';
import { AccountExportController } from './account-export.controller';
import { AccountExportService } from './account-export.service';
import { AccountController } from './account.controller';
import { OrganizationExportsController } from './organization-exports.controller';

/** The account's lifecycle beyond sign-in: export and erasure of one's own data. */
@Module({
  imports: [IdentityModule, MembersModule],
  controllers: [AccountController, AccountExportController, OrganizationExportsController],
  providers: [AccountErasureService, AccountExportService],
})
export class AccountModule {}
