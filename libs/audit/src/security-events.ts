import { Metrics, newId } from '@app/common';
import type { AuditActorType, SecurityEventKind } from '@app/database';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface SecurityEventInput {
  kind: SecurityEventKind;
  actorType: AuditActorType;
  actorId: string;
  organizationId: string | null;
  route: string;
  ip: string | null;
}

/** How many distinct organizations one row remembers; the count goes on past it. */
const MAX_ORGANIZATIONS = 20;

/**
 * The security-event stream: refusals that say something about a caller's intent (asking for
 * other organizations, trying what they may not), one row per actor, kind and minute with a
 * counter, so a prober adds to a number rather than to the table.
 */
@Injectable()
export class SecurityEvents {
  constructor(private readonly metrics: Metrics) {}

  /** Counts one event, in the caller's system unit of work. */
  async count(manager: EntityManager, event: SecurityEventInput): Promise<void> {
    await manager.query(
      `INSERT INTO security_events AS e
         (id, kind, actor_type, actor_id, window_start, count, organization_ids, last_route, last_ip, last_seen_at)
       VALUES ($1, $2, $3, $4, date_trunc('minute', now()), 1,
               CASE WHEN $5::uuid IS NULL THEN '{}'::uuid[] ELSE ARRAY[$5::uuid] END, $6, $7, now())
       ON CONFLICT (kind, actor_type, actor_id, window_start) DO UPDATE SET
         count = e.count + 1,
         organization_ids = CASE
           WHEN $5::uuid IS NULL OR $5::uuid = ANY (e.organization_ids) OR cardinality(e.organization_ids) >= $8
             THEN e.organization_ids
           ELSE e.organization_ids || $5::uuid END,
         last_route = EXCLUDED.last_route,
         last_ip = EXCLUDED.last_ip,
         last_seen_at = EXCLUDED.last_seen_at`,
      [
        newId(),
        event.kind,
        event.actorType,
        event.actorId,
        event.organizationId,
        event.route.slice(0, 200),
        event.ip?.slice(0, 64) ?? null,
        MAX_ORGANIZATIONS,
      ],
    );
    this.metrics.securityEvents.inc({ kind: event.kind });
  }
}
