import { Column, Entity, Index } from 'typeorm';
import { BaseEntity } from './base.entity';

/**
 * A job written in the same transaction as the change that causes it. A relay publishes
 * committed rows to the queue; the job id is the row id, so a re-publish never duplicates.
 */
@Entity({ name: 'outbox' })
@Index('outbox_unpublished_idx', { synchronize: false })
export class OutboxMessage extends BaseEntity {
  @Column({ type: 'varchar', length: 100 })
  jobName!: string;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Column({ type: 'uuid', nullable: true })
  organizationId!: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  availableAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;

  @Column({ type: 'integer', default: 0 })
  publishAttempts!: number;

  @Column({ type: 'text', nullable: true })
  lastError!: string | null;
}
