import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Who acted. A module adding a caller kind adds its type here and to the check (a migration). */
export type AuditActorType = 'user' | 'api_key' | 'system' | 'scim_token';
export type AuditOutcome = 'success' | 'failure' | 'denied';

/**
 * Append-only record of sensitive actions. No foreign keys on purpose: the history
 * must outlive the users, keys and organizations it mentions.
 */
@Entity({ name: 'audit_logs' })
@Check('audit_logs_actor_type_check', `"actor_type" IN ('user', 'api_key', 'system', 'scim_token')`)
@Check('audit_logs_outcome_check', `"outcome" IN ('success', 'failure', 'denied')`)
@Index('audit_logs_organization_time_idx', ['organizationId', 'occurredAt'])
@Index('audit_logs_actor_idx', ['actorId'])
@Index('audit_logs_action_idx', ['action'])
// (organization_id, chain_seq) NULLS NOT DISTINCT, and the chain trigger, live in the migration.
@Index('audit_logs_chain_key', { synchronize: false })
export class AuditLog {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  occurredAt!: Date;

  @Column({ type: 'uuid', nullable: true })
  organizationId!: string | null;

  @Column({ type: 'varchar', length: 20 })
  actorType!: AuditActorType;

  @Column({ type: 'uuid', nullable: true })
  actorId!: string | null;

  @Column({ type: 'varchar', length: 100 })
  action!: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  targetType!: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  targetId!: string | null;

  @Column({ type: 'varchar', length: 20 })
  outcome!: AuditOutcome;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  requestId!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata!: Record<string, unknown>;

  /** Position in its organization's chain (set by the database on insert). */
  @Column({ type: 'bigint' })
  chainSeq!: string;

  /** The hash of the previous row of the chain; null for the first row. */
  @Column({ type: 'char', length: 64, nullable: true })
  prevHash!: string | null;

  /** SHA-256 over this row's content and prevHash (set by the database on insert). */
  @Column({ type: 'char', length: 64 })
  hash!: string;

  /**
   * The platform admin who acted as the actor (an impersonation session), covered by the chain's
   * hash and never erased: accountability for what was done in someone's name outlives their data.
   */
  @Column({ type: 'uuid', nullable: true })
  impersonatorId!: string | null;

  /**
   * A random salt for personalDigest (set by the database on insert); erased with the personal
   * data, so the digest cannot be used afterwards to test guesses of what it covered.
   */
  @Column({ type: 'varchar', length: 36, nullable: true })
  personalSalt!: string | null;

  /**
   * SHA-256 over the salt, ip, userAgent and metadata: the chain's hash covers this digest instead
   * of those fields, so they can be erased (GDPR art. 17) and the chain still verifies.
   */
  @Column({ type: 'char', length: 64 })
  personalDigest!: string;

  /** When the personal data of this row was erased (the event itself stays). */
  @Column({ type: 'timestamptz', nullable: true })
  erasedAt!: Date | null;
}
