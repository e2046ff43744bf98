import { Global, Module } from '@nestjs/common';
import { AuditService } from './audit.service';
import { SecurityEvents } from './security-events';

@Global()
@Module({ providers: [AuditService, SecurityEvents], exports: [AuditService, SecurityEvents] })
export class AuditModule {}
