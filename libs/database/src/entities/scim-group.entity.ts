import { Column, Entity, ForeignKey, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { Role } from './role.entity';
import { Team } from './team.entity';

/**
 * A SCIM Group of one organization: the identity provider's group, kept as a team of the
 * organization. Its members (scim_group_members) are the IdP's list; the team's members are that
 * list's active people. `roleId`, set by an administrator, is an organization role the group's
 * members hold while they are in it.
 */
@Entity({ name: 'scim_groups' })
@ForeignKey(() => Team, ['teamId', 'organizationId'], ['id', 'organizationId'], {
  name: 'scim_groups_team_organization_fkey',
  onDelete: 'CASCADE',
})
@Index('scim_groups_org_team_key', ['organizationId', 'teamId'], { unique: true })
// Target of the composite foreign key that keeps group memberships inside the group's organization.
@Index('scim_groups_id_organization_key', ['id', 'organizationId'], { unique: true })
@Index('scim_groups_org_external_id_key', ['organizationId', 'externalId'], {
  unique: true,
  where: '"external_id" IS NOT NULL',
})
// Unique per organization, compared without case: (organization_id, lower(display_name)).
@Index('scim_groups_org_display_name_key', { synchronize: false })
export class ScimGroup extends BaseEntity {
  @Column('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'scim_groups_organization_id_fkey' })
  organization?: Organization;

  @Column('uuid')
  teamId!: string;

  @ManyToOne(() => Team, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id', foreignKeyConstraintName: 'scim_groups_team_id_fkey' })
  team?: Team;

  @Column({ type: 'varchar', length: 200 })
  displayName!: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  externalId!: string | null;

  @Column({ type: 'uuid', nullable: true })
  roleId!: string | null;

  @ManyToOne(() => Role, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'role_id', foreignKeyConstraintName: 'scim_groups_role_id_fkey' })
  role?: Role;

  /** Bumped by every change: the resource's ETag (W/"<version>"). */
  @Column({ type: 'integer', default: 1 })
  version!: number;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
