import { Global, Module } from '@nestjs/common';
import { DomainEvents } from './domain-events';
import { WebhookDeliverProcessor } from './webhook-deliver.processor';

/**
 * Domain events and their webhook deliveries. Both apps import it: changes made in either are
 * published; the worker (or the api in-process, without Redis) makes the delivery attempts.
 */
@Global()
@Module({ providers: [DomainEvents, WebhookDeliverProcessor], exports: [DomainEvents] })
export class EventsModule {}
