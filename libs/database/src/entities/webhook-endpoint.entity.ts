import { Column, Entity, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { User } from './user.entity';

/**
 * Where an organization wants its events: a URL, the event types it takes (none listed: all), and
 * its signing secret, sealed (SecretBox, bound to the row). During a rotation the previous secret
 * signs too until `previousSecretExpiresAt`.
 */
@Entity({ name: 'webhook_endpoints' })
@Index('webhook_endpoints_organization_idx', ['organizationId'])
// Target of the composite foreign key that keeps deliveries inside their endpoint's organization.
@Index('webhook_endpoints_id_organization_key', ['id', 'organizationId'], { unique: true })
export class WebhookEndpoint extends BaseEntity {
  @Column('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'webhook_endpoints_organization_id_fkey' })
  organization?: Organization;

  @Column({ type: 'uuid', nullable: true })
  createdByUserId!: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by_user_id', foreignKeyConstraintName: 'webhook_endpoints_created_by_user_id_fkey' })
  createdBy?: User;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  @Column({ type: 'varchar', length: 500, nullable: true })
  description!: string | null;

  @Column({ type: 'varchar', length: 100, array: true, default: () => "'{}'" })
  eventTypes!: string[];

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ type: 'text' })
  secretSealed!: string;

  @Column({ type: 'text', nullable: true })
  previousSecretSealed!: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  previousSecretExpiresAt!: Date | null;

  /** Since when every delivery has failed (null: the last one succeeded, or none was tried). */
  @Column({ type: 'timestamptz', nullable: true })
  failingSince!: Date | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  disabledReason!: string | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
