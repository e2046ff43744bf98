import { Module } from '@nestjs/common';
import { OrganizationsController } from './organizations.controller';
import { OrganizationsService } from './organizations.service';
import { PermissionsController } from './permissions.controller';

/** Organizations (the tenants) and the permission catalogue. */
@Module({
  controllers: [OrganizationsController, PermissionsController],
  providers: [OrganizationsService],
  exports: [OrganizationsService],
})
export class OrganizationsModule {}
