import { Column, Entity, ForeignKey, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { Team } from './team.entity';

export type ProjectStatus = 'active' | 'archived';

/** The example tenant-scoped resource: owned by an organization, optionally by one of its teams. */
@Entity({ name: 'projects' })
// A project's team is a team of the project's own organization; deleting the team deletes its projects.
@ForeignKey(() => Team, ['teamId', 'organizationId'], ['id', 'organizationId'], {
  name: 'projects_team_organization_fkey',
  onDelete: 'CASCADE',
})
@Index('projects_organization_created_idx', ['organizationId', 'createdAt'])
@Index('projects_organization_team_idx', ['organizationId', 'teamId'])
export class Project extends BaseEntity {
  @Column('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'projects_organization_id_fkey' })
  organization?: Organization;

  @Column({ type: 'uuid', nullable: true })
  teamId!: string | null;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'varchar', length: 20, default: 'active' })
  status!: ProjectStatus;

  @Column({ type: 'uuid', nullable: true })
  createdBy!: string | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
