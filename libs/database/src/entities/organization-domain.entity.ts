import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';

/**
 * A DNS domain an organization claims. Claimed is not proven: only a verified domain (its DNS has
 * the organization's TXT token) routes people to the organization's connection, and only one
 * organization can hold a domain verified.
 */
@Entity({ name: 'organization_domains' })
@Index('organization_domains_org_domain_key', ['organizationId', 'domain'], { unique: true })
@Index('organization_domains_verified_key', ['domain'], { unique: true, where: '"verified_at" IS NOT NULL' })
export class OrganizationDomain extends BaseEntity {
  @Column('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'organization_domains_organization_id_fkey' })
  organization?: Organization;

  /** Lower-case, no trailing dot. */
  @Column({ type: 'varchar', length: 253 })
  domain!: string;

  /** What the TXT record must say (not a secret: it only proves control of the DNS). */
  @Column({ type: 'varchar', length: 100 })
  verificationToken!: string;

  @Column({ type: 'timestamptz', nullable: true })
  verifiedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastCheckedAt!: Date | null;
}
