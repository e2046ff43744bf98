import { Column, Entity, Index, UpdateDateColumn } from 'typeorm';
import { BaseEntity } from './base.entity';

/** The tenant. Every tenant-owned row points at one. */
@Entity({ name: 'organizations' })
@Index('organizations_slug_key', ['slug'], { unique: true })
export class Organization extends BaseEntity {
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 100 })
  slug!: string;

  /** Tokens it may use per month; null: LLM_MONTHLY_TOKEN_BUDGET applies. Set by platform admins. */
  @Column({ type: 'integer', nullable: true })
  llmMonthlyTokenBudget!: number | null;

  /**
   * Members whose email is in one of the organization's verified domains reach its routes only
   * from a session signed in through one of its connections.
   */
  @Column({ type: 'boolean', default: false })
  ssoEnforced!: boolean;

  /** The owner who may still come in another way while SSO is enforced (audited each time). */
  @Column({ type: 'uuid', nullable: true })
  ssoBreakGlassUserId!: string | null;

  /** Set while its deletion is scheduled: closed to all but an owner's restore until then, then purged. */
  @Column({ type: 'timestamptz', nullable: true })
  deletionScheduledFor!: Date | null;

  /** Who scheduled the deletion (no foreign key: the record outlives the account). */
  @Column({ type: 'uuid', nullable: true })
  deletionRequestedBy!: string | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
