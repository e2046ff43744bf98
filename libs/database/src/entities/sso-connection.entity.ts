import { Column, Entity, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';

export type SsoConnectionType = 'saml';

/** Maps an assertion attribute value (a group, usually) to organization roles at provisioning. */
export interface SsoRoleMapping {
  attribute: string;
  value: string;
  roleIds: string[];
}

/**
 * An organization's own identity provider. Only the organization's verified domains sign in
 * through it; a connection never grants membership in another organization.
 */
@Entity({ name: 'sso_connections' })
@Index('sso_connections_organization_idx', ['organizationId'])
export class SsoConnection extends BaseEntity {
  @Column('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'sso_connections_organization_id_fkey' })
  organization?: Organization;

  @Column({ type: 'varchar', length: 10 })
  type!: SsoConnectionType;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ type: 'varchar', length: 1000 })
  idpEntityId!: string;

  @Column({ type: 'varchar', length: 2000 })
  idpSsoUrl!: string;

  /** PEM signing certificates; any of them verifies (several during a rotation). */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  idpCertificates!: string[];

  /** Whether the IdP may start a sign-in on its own (no request of ours to answer). */
  @Column({ type: 'boolean', default: false })
  allowIdpInitiated!: boolean;

  /** The organization role a provisioned member gets when no mapping applies; null: member. */
  @Column({ type: 'uuid', nullable: true })
  defaultRoleId!: string | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  roleMappings!: SsoRoleMapping[];

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
