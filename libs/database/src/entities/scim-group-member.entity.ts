import { CreateDateColumn, Column, Entity, ForeignKey, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Organization } from './organization.entity';
import { ScimGroup } from './scim-group.entity';
import { ScimUser } from './scim-user.entity';

/**
 * One SCIM User in one SCIM Group, as the IdP says. Kept apart from team_members so a person the
 * IdP deactivates and brings back returns to the same teams.
 */
@Entity({ name: 'scim_group_members' })
// The group and the user are both of the row's organization, whatever wrote it.
@ForeignKey(() => ScimGroup, ['groupId', 'organizationId'], ['id', 'organizationId'], {
  name: 'scim_group_members_group_organization_fkey',
  onDelete: 'CASCADE',
})
@ForeignKey(() => ScimUser, ['scimUserId', 'organizationId'], ['id', 'organizationId'], {
  name: 'scim_group_members_user_organization_fkey',
  onDelete: 'CASCADE',
})
@Index('scim_group_members_scim_user_idx', ['scimUserId'])
export class ScimGroupMember {
  @PrimaryColumn('uuid')
  groupId!: string;

  @PrimaryColumn('uuid')
  scimUserId!: string;

  @Column('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'scim_group_members_organization_id_fkey' })
  organization?: Organization;

  @ManyToOne(() => ScimGroup, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id', foreignKeyConstraintName: 'scim_group_members_group_id_fkey' })
  group?: ScimGroup;

  @ManyToOne(() => ScimUser, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'scim_user_id', foreignKeyConstraintName: 'scim_group_members_scim_user_id_fkey' })
  scimUser?: ScimUser;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
