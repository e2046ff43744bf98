import { Module } from '@nestjs/common';
import { DependenciesAdminController } from './dependencies-admin.controller';

@Module({ controllers: [DependenciesAdminController] })
export class DependenciesModule {}
