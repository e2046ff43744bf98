import { Column, Entity, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';

@Entity({ name: 'teams' })
@Index('teams_organization_slug_key', ['organizationId', 'slug'], { unique: true })
// Target of the composite foreign keys that keep team rows inside the team's organization.
@Index('teams_id_organization_key', ['id', 'organizationId'], { unique: true })
export class Team extends BaseEntity {
  @Column('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'teams_organization_id_fkey' })
  organization?: Organization;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 100 })
  slug!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
