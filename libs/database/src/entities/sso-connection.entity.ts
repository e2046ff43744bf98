import { Check, Column, Entity, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';

export type SsoConnectionType = 'saml' | 'oidc';

/** Maps an assertion attribute value (a group, usually) to organization roles at provisioning. */
export interface SsoRoleMapping {
  attribute: string;
  value: string;
  roleIds: string[];
}

/** Maps an assertion attribute value to teams of the organization (joined as team-member) at provisioning. */
export interface SsoTeamMapping {
  attribute: string;
  value: string;
  teamIds: string[];
}

/**
 * An organization's own identity provider. Only the organization's verified domains sign in
 * through it; a connection never grants membership in another organization.
 */
@Entity({ name: 'sso_connections' })
@Check(
  'sso_connections_type_fields_check',
  `("type" = 'saml' AND "idp_entity_id" IS NOT NULL AND "idp_sso_url" IS NOT NULL) OR ("type" = 'oidc' AND "oidc_issuer" IS NOT NULL AND "oidc_client_id" IS NOT NULL AND "oidc_client_secret" IS NOT NULL)`,
)
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

  /** SAML: the IdP's entity id (the issuer of its responses). */
  @Column({ type: 'varchar', length: 1000, nullable: true })
  idpEntityId!: string | null;

  /** SAML: where AuthnRequests go (HTTP-Redirect binding). */
  @Column({ type: 'varchar', length: 2000, nullable: true })
  idpSsoUrl!: string | null;

  /** PEM signing certificates; any of them verifies (several during a rotation). */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  idpCertificates!: string[];

  /** OpenID Connect: the issuer (discovery at `<issuer>/.well-known/openid-configuration`). */
  @Column({ type: 'varchar', length: 2000, nullable: true })
  oidcIssuer!: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  oidcClientId!: string | null;

  /** Sealed with the secret box (AES-256-GCM, bound to the connection's id); never shown again. */
  @Column({ type: 'text', nullable: true })
  oidcClientSecret!: string | null;

  /** Space-separated; null: `openid email profile`. */
  @Column({ type: 'varchar', length: 500, nullable: true })
  oidcScopes!: string | null;

  /** Whether the IdP may start a sign-in on its own (no request of ours to answer). */
  @Column({ type: 'boolean', default: false })
  allowIdpInitiated!: boolean;

  /** The organization role a provisioned member gets when no mapping applies; null: member. */
  @Column({ type: 'uuid', nullable: true })
  defaultRoleId!: string | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  roleMappings!: SsoRoleMapping[];

  @Column({ type: 'jsonb', default: () => "'[]'" })
  teamMappings!: SsoTeamMapping[];

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
