export { AuditModule } from './audit.module';
export {
  AuditService,
  type AuditActor,
  type AuditEvent,
  type AuditListener,
  type RecordedAudit,
} from './audit.service';
export { captureRequestContext, REQUEST_IP_KEY, REQUEST_USER_AGENT_KEY, requestContextStore } from './request-context';
export { SecurityEvents, type SecurityEventInput } from './security-events';
