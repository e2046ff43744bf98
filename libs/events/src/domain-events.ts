import { AuditService, type RecordedAudit } from '@app/audit';
import { newId } from '@app/common';
import { TenantTransaction } from '@app/database';
import { InvalidationBus, Outbox } from '@app/queue';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { eventDefinition, eventForAuditAction, type EventDefinition } from './event-catalogue';
import { WebhookDeliverJob } from './webhook-deliver.job';

/** The bus topic committed events travel on to every api replica (the realtime stream). */
export const EVENTS_TOPIC = 'domain-events';

/** An event as it goes out: the body every endpoint receives. */
export interface DomainEvent {
  id: string;
  type: string;
  organizationId: string;
  /** ISO time of the change. */
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * Turns committed changes into domain events. Every change is audited inside its own transaction;
 * when the audit action is in the event catalogue, the event's deliveries (one per enabled endpoint
 * of the organization that takes the type) and their first delivery jobs are written to the same
 * transaction. So an event goes out if and only if its change committed, and an organization
 * without endpoints pays one indexed query per change.
 */
@Injectable()
export class DomainEvents implements OnModuleInit {
  constructor(
    private readonly audit: AuditService,
    private readonly outbox: Outbox,
    private readonly transactions: TenantTransaction,
    private readonly bus: InvalidationBus,
  ) {}

  onModuleInit(): void {
    this.audit.onRecorded((manager, row) => this.fromAudit(manager, row));
  }

  /** The event an audited change means, if any. */
  static fromAuditRow(row: RecordedAudit): { definition: EventDefinition; event: DomainEvent } | undefined {
    if (row.outcome !== 'success' || !row.organizationId || !row.targetId) return undefined;
    const definition = eventForAuditAction(row.action);
    if (!definition) return undefined;
    const metadata = row.metadata;
    const fields = Object.fromEntries(
      Object.keys(definition.fields)
        .filter((field) => Object.hasOwn(metadata, field) && metadata[field] !== undefined)
        .map((field) => [field, metadata[field]]),
    );
    return {
      definition,
      event: {
        id: row.id,
        type: definition.type,
        organizationId: row.organizationId,
        timestamp: row.occurredAt.toISOString(),
        data: {
          id: row.targetId,
          organizationId: row.organizationId,
          actor: { type: row.actorType, id: row.actorId },
          ...fields,
        },
      },
    };
  }

  private async fromAudit(manager: EntityManager, row: RecordedAudit): Promise<void> {
    const found = DomainEvents.fromAuditRow(row);
    if (!found) return;
    await this.publish(manager, found.event);
    // Realtime: to every replica once the change has committed (at most once; the stream's
    // buffer and Last-Event-ID cover a reconnect, not a lost message).
    this.transactions.afterCommit(() => void this.bus.publish(EVENTS_TOPIC, found.event));
  }

  /**
   * Writes the event's deliveries in the caller's transaction: to every enabled endpoint of its
   * organization that takes the type, or only to `endpointId` (a test event).
   */
  async publish(manager: EntityManager, event: DomainEvent, endpointId?: string): Promise<number> {
    const permission = eventDefinition(event.type)?.permission ?? 'webhooks:manage';
    // An endpoint delivers only while its creator is an active member who may see the event and
    // still manages webhooks: like an API key, it does not outlive its creator's access.
    const endpoints = await manager.query<Array<{ id: string; event_types: string[] }>>(
      `SELECT e.id, e.event_types FROM webhook_endpoints e
        WHERE e.organization_id = $1 AND ${endpointId ? 'e.id = $3' : 'e.enabled'}
          AND EXISTS (SELECT 1 FROM users u WHERE u.id = e.created_by_user_id AND u.is_active)
          AND NOT EXISTS (
            SELECT 1 FROM unnest(ARRAY['webhooks:manage', $2::varchar]) AS needed(key)
             WHERE NOT EXISTS (
               SELECT 1 FROM role_assignments ra JOIN role_permissions rp ON rp.role_id = ra.role_id
                WHERE ra.organization_id = e.organization_id AND ra.user_id = e.created_by_user_id
                  AND ra.team_id IS NULL AND rp.permission_key = needed.key))`,
      endpointId ? [event.organizationId, permission, endpointId] : [event.organizationId, permission],
    );
    const targets = endpoints.filter(
      (endpoint) => endpointId || endpoint.event_types.length === 0 || endpoint.event_types.includes(event.type),
    );
    if (targets.length === 0) return 0;
    const body = JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
    for (const endpoint of targets) {
      const deliveryId = newId();
      const inserted = await manager.query<Array<{ id: string }>>(
        `WITH added AS (
           INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, body, status, next_attempt_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'pending', now())
           ON CONFLICT (endpoint_id, event_id) DO NOTHING
           RETURNING id)
         SELECT id FROM added`,
        [deliveryId, event.organizationId, endpoint.id, event.id, event.type, body],
      );
      if (inserted.length === 0) continue;
      await this.outbox.add(
        manager,
        WebhookDeliverJob,
        { deliveryId, organizationId: event.organizationId, attempt: 1 },
        { organizationId: event.organizationId },
      );
    }
    return targets.length;
  }
}
