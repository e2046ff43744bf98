import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { User } from './user.entity';

/**
 * The bearer credential an organization's identity provider provisions with (SCIM 2.0). It reaches
 * only its organization's SCIM endpoint, and only while whoever created it still holds scim:manage
 * there; only the SHA-256 of the secret is kept.
 */
@Entity({ name: 'scim_tokens' })
@Index('scim_tokens_prefix_key', ['prefix'], { unique: true })
@Index('scim_tokens_organization_idx', ['organizationId'])
export class ScimToken extends BaseEntity {
  @Column('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'scim_tokens_organization_id_fkey' })
  organization?: Organization;

  @Column({ type: 'uuid', nullable: true })
  createdByUserId!: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by_user_id', foreignKeyConstraintName: 'scim_tokens_created_by_user_id_fkey' })
  createdBy?: User;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** Non-secret lookup id shown in listings. */
  @Column({ type: 'varchar', length: 32 })
  prefix!: string;

  /** SHA-256 (hex) of the whole token. */
  @Column({ type: 'char', length: 64 })
  tokenHash!: string;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
