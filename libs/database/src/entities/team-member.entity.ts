import { Column, Entity, ForeignKey, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from './base.entity';
import { OrganizationMember } from './organization-member.entity';
import { Organization } from './organization.entity';
import { Team } from './team.entity';
import { User } from './user.entity';

/**
 * A team member is always an organization member: the migration adds a composite
 * foreign key to organization_members, so leaving the organization leaves its teams.
 */
@Entity({ name: 'team_members' })
@ForeignKey(() => Team, ['teamId', 'organizationId'], ['id', 'organizationId'], {
  name: 'team_members_team_organization_fkey',
  onDelete: 'CASCADE',
})
@ForeignKey(() => OrganizationMember, ['organizationId', 'userId'], ['organizationId', 'userId'], {
  name: 'team_members_organization_member_fkey',
  onDelete: 'CASCADE',
})
@Index('team_members_team_user_key', ['teamId', 'userId'], { unique: true })
@Index('team_members_user_idx', ['userId'])
export class TeamMember extends BaseEntity {
  @Column('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'team_members_organization_id_fkey' })
  organization?: Organization;

  @Column('uuid')
  teamId!: string;

  @ManyToOne(() => Team, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id', foreignKeyConstraintName: 'team_members_team_id_fkey' })
  team?: Team;

  @Column('uuid')
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'team_members_user_id_fkey' })
  user?: User;
}
