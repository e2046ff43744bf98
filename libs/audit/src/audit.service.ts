import { IMPERSONATOR_KEY, Metrics, newId } from '@app/common';
import { AuditLog, TenantTransaction, type AuditActorType, type AuditOutcome } from '@app/database';
import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import type { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { REQUEST_IP_KEY, REQUEST_USER_AGENT_KEY } from './request-context';

export interface AuditEvent {
  action: string;
  outcome: AuditOutcome;
  organizationId?: string | null;
  actorType?: AuditActorType;
  actorId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  metadata?: Record<string, unknown>;
}

/** Who did it, as audit rows name them. */
export interface AuditActor {
  actorType?: AuditActorType;
  actorId: string | null;
}

/** An audit row as written, for listeners (the metadata already scrubbed of secrets). */
export interface RecordedAudit {
  id: string;
  occurredAt: Date;
  organizationId: string | null;
  actorType: AuditActorType;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: AuditOutcome;
  metadata: Record<string, unknown>;
}

/** Runs inside the unit of work that wrote the row: what it writes commits or rolls back with the change. */
export type AuditListener = (manager: EntityManager, row: RecordedAudit) => Promise<void>;

const SECRET_KEYS = /pass(word)?|secret|token|code|key|hash/i;

/** Drops values under keys that look secret, so no caller can log one by accident. */
function scrub(metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(Object.entries(metadata).filter(([key]) => !SECRET_KEYS.test(key)));
}

/**
 * The audit seam. Pass the unit of work's EntityManager to write the row in the same
 * transaction as the change (a rolled-back change leaves no row); without one, the row is
 * written on its own (for refusals, which have no change to join).
 */
@Injectable()
export class AuditService {
  private readonly listeners: AuditListener[] = [];

  constructor(
    private readonly cls: ClsService,
    private readonly transactions: TenantTransaction,
    private readonly metrics: Metrics,
  ) {}

  async record(event: AuditEvent, manager?: EntityManager): Promise<void> {
    const active = this.cls.isActive();
    // Whatever a request does while a platform admin acts as someone, its rows name the admin too.
    const impersonatorId = active ? this.cls.get<string | undefined>(IMPERSONATOR_KEY) : undefined;
    const entity: Omit<AuditLog, 'chainSeq' | 'prevHash' | 'hash' | 'personalSalt' | 'personalDigest' | 'erasedAt'> = {
      id: newId(),
      occurredAt: new Date(),
      organizationId: event.organizationId ?? null,
      actorType: event.actorType ?? (event.actorId ? 'user' : 'system'),
      actorId: event.actorId ?? null,
      action: event.action,
      targetType: event.targetType ?? null,
      targetId: event.targetId ?? null,
      outcome: event.outcome,
      ip: active ? (this.cls.get<string | null>(REQUEST_IP_KEY) ?? null) : null,
      userAgent: active ? (this.cls.get<string | null>(REQUEST_USER_AGENT_KEY) ?? null) : null,
      requestId: active ? (this.cls.getId() ?? null) : null,
      metadata: scrub(event.metadata),
      impersonatorId: impersonatorId ?? null,
    };
    // jsonb metadata is arbitrary JSON, which TypeORM's deep-partial type cannot express.
    const row = entity as QueryDeepPartialEntity<AuditLog>;
    if (manager) {
      await manager.insert(AuditLog, row);
      for (const listener of this.listeners) await listener(manager, entity);
    } else await this.transactions.runAsSystem((system) => system.insert(AuditLog, row));
    this.metrics.auditEvents.inc({ action: event.action, outcome: event.outcome });
  }

  /**
   * Hears every row written inside a unit of work (a change, not a refusal written on its own):
   * domain events hang off this, so a change that is audited can be published in its transaction.
   */
  onRecorded(listener: AuditListener): void {
    this.listeners.push(listener);
  }

  /** A successful change to `target` (type, id), written in the change's own unit of work. */
  change(
    manager: EntityManager,
    action: string,
    organizationId: string | null,
    actor: AuditActor,
    target: [type: string, id: string],
    metadata: Record<string, unknown> = {},
  ): Promise<void> {
    const [targetType, targetId] = target;
    return this.record(
      { action, outcome: 'success', organizationId, ...actor, targetType, targetId, metadata },
      manager,
    );
  }
}
