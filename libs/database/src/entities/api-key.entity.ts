import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { User } from './user.entity';

/** A machine credential acting inside one organization with a fixed set of permissions. */
@Entity({ name: 'api_keys' })
@Index('api_keys_prefix_key', ['prefix'], { unique: true })
@Index('api_keys_organization_idx', ['organizationId'])
@Index('api_keys_created_by_idx', ['createdByUserId'])
export class ApiKey extends BaseEntity {
  @Column('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'api_keys_organization_id_fkey' })
  organization?: Organization;

  @Column({ type: 'uuid', nullable: true })
  createdByUserId!: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by_user_id', foreignKeyConstraintName: 'api_keys_created_by_user_id_fkey' })
  createdBy?: User;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** Non-secret lookup id shown in listings. */
  @Column({ type: 'varchar', length: 32 })
  prefix!: string;

  /** SHA-256 (hex) of the secret part. */
  @Column({ type: 'char', length: 64 })
  keyHash!: string;

  @Column({ type: 'varchar', length: 100, array: true, default: () => "'{}'" })
  permissions!: string[];

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
