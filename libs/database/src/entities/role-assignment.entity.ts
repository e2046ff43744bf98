import { Column, Entity, ForeignKey, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from './base.entity';
import { OrganizationMember } from './organization-member.entity';
import { Organization } from './organization.entity';
import { Role } from './role.entity';
import { Team } from './team.entity';
import { User } from './user.entity';

/** A user holds a role in an organization, or in one team of it (team_id set). */
@Entity({ name: 'role_assignments' })
@ForeignKey(() => Team, ['teamId', 'organizationId'], ['id', 'organizationId'], {
  name: 'role_assignments_team_organization_fkey',
  onDelete: 'CASCADE',
})
@ForeignKey(() => OrganizationMember, ['organizationId', 'userId'], ['organizationId', 'userId'], {
  name: 'role_assignments_organization_member_fkey',
  onDelete: 'CASCADE',
})
// Uniqueness of (user, role, organization, team) with NULLS NOT DISTINCT is in the migration.
@Index('role_assignments_unique_key', { synchronize: false })
@Index('role_assignments_organization_user_idx', ['organizationId', 'userId'])
@Index('role_assignments_role_idx', ['roleId'])
@Index('role_assignments_team_idx', ['teamId'])
export class RoleAssignment extends BaseEntity {
  @Column('uuid')
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'role_assignments_user_id_fkey' })
  user?: User;

  @Column('uuid')
  roleId!: string;

  @ManyToOne(() => Role, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'role_id', foreignKeyConstraintName: 'role_assignments_role_id_fkey' })
  role?: Role;

  @Column('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'role_assignments_organization_id_fkey' })
  organization?: Organization;

  @Column({ type: 'uuid', nullable: true })
  teamId!: string | null;

  @ManyToOne(() => Team, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id', foreignKeyConstraintName: 'role_assignments_team_id_fkey' })
  team?: Team;

  @Column({ type: 'uuid', nullable: true })
  grantedByUserId!: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'granted_by_user_id', foreignKeyConstraintName: 'role_assignments_granted_by_user_id_fkey' })
  grantedBy?: User;

  /**
   * Who keeps this assignment when not a person: 'directory' for an organization role a SCIM
   * group maps to (granted and taken back by group membership). Null: granted by hand (or at
   * sign-up, invitation or SSO provisioning), never touched by directory sync.
   */
  @Column({ type: 'varchar', length: 20, nullable: true })
  source!: 'directory' | null;
}
