export {
  defineEvent,
  defineResourceEvents,
  eventBodySchema,
  eventCatalogue,
  eventDefinition,
  eventForAuditAction,
  WEBHOOK_TEST_EVENT,
  type EventDefinition,
  type JsonSchema,
} from './event-catalogue';
export { DomainEvents, EVENTS_TOPIC, type DomainEvent } from './domain-events';
export { EventsModule } from './events.module';
export { WebhookDeliverJob, type WebhookDeliverPayload } from './webhook-deliver.job';
export { MAX_RESPONSE_BYTES } from './webhook-deliver.processor';
export { openSecret, sealSecret } from './webhook-secrets';
export { newSigningSecret, signatureHeader, verifySignature, webhookId } from './webhook-signature';
