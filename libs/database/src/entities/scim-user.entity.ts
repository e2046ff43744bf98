import { Column, Entity, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { User } from './user.entity';

/**
 * A SCIM User of one organization: the identity provider's view of a member. Its id is its own
 * (never the account's id, which other organizations share); `active` false means the person has
 * no membership here while the IdP keeps them.
 */
@Entity({ name: 'scim_users' })
@Index('scim_users_org_user_name_key', ['organizationId', 'userName'], { unique: true })
@Index('scim_users_org_user_key', ['organizationId', 'userId'], { unique: true })
// Target of the composite foreign key that keeps group memberships inside the user's organization.
@Index('scim_users_id_organization_key', ['id', 'organizationId'], { unique: true })
@Index('scim_users_org_external_id_key', ['organizationId', 'externalId'], {
  unique: true,
  where: '"external_id" IS NOT NULL',
})
export class ScimUser extends BaseEntity {
  @Column('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'scim_users_organization_id_fkey' })
  organization?: Organization;

  @Column('uuid')
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'scim_users_user_id_fkey' })
  user?: User;

  /** Lower-cased: SCIM's userName is compared case-insensitively. */
  @Column({ type: 'varchar', length: 320 })
  userName!: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  externalId!: string | null;

  @Column({ type: 'boolean', default: true })
  active!: boolean;

  @Column({ type: 'varchar', length: 200, nullable: true })
  givenName!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  familyName!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  displayName!: string | null;

  /** Bumped by every change: the resource's ETag (W/"<version>"). */
  @Column({ type: 'integer', default: 1 })
  version!: number;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
