import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { User } from './user.entity';

export type AccountExportStatus = 'pending' | 'ready' | 'downloaded' | 'expired' | 'cancelled';

/** A person's own data, exported as one JSON document: kept until downloaded once, or until it expires. */
@Entity({ name: 'account_exports' })
@Check('account_exports_status_check', `"status" IN ('pending', 'ready', 'downloaded', 'expired', 'cancelled')`)
@Index('account_exports_user_idx', ['userId'])
@Index('account_exports_organization_idx', ['organizationId'])
@Index('account_exports_token_hash_key', ['tokenHash'], { unique: true })
export class AccountExport extends BaseEntity {
  @Column('uuid')
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'account_exports_user_id_fkey' })
  user?: User;

  /** Set for an organization's export: userId is then the owner who asked, and who gets the link. */
  @Column({ type: 'uuid', nullable: true })
  organizationId!: string | null;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'account_exports_organization_id_fkey' })
  organization?: Organization;

  @Column({ type: 'varchar', length: 20, default: 'pending' })
  status!: AccountExportStatus;

  /** The JSON document; cleared once downloaded or expired. */
  @Column({ type: 'text', nullable: true })
  archive!: string | null;

  /** SHA-256 of the download token the mail carries. */
  @Column({ type: 'char', length: 64, nullable: true })
  tokenHash!: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  downloadedAt!: Date | null;
}
