import { Check, Column, Entity, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import type { RoleScope } from './permission.entity';

/** System roles have no organization and cannot change; custom roles belong to one organization. */
@Entity({ name: 'roles' })
@Check('roles_scope_check', `"scope" IN ('organization', 'team')`)
@Check(
  'roles_system_check',
  `("is_system" AND "organization_id" IS NULL) OR (NOT "is_system" AND "organization_id" IS NOT NULL)`,
)
// Name uniqueness (per organization, and among system roles) is an expression index in the migration.
@Index('roles_organization_name_key', { synchronize: false })
export class Role extends BaseEntity {
  @Column({ type: 'uuid', nullable: true })
  organizationId!: string | null;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'roles_organization_id_fkey' })
  organization?: Organization;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'varchar', length: 20 })
  scope!: RoleScope;

  @Column({ type: 'boolean', default: false })
  isSystem!: boolean;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
