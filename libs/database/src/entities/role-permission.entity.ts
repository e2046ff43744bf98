import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Permission } from './permission.entity';
import { Role } from './role.entity';

/** Which permissions a role grants. organization_id mirrors the role's, for row-level security. */
@Entity({ name: 'role_permissions' })
@Index('role_permissions_permission_idx', ['permissionKey'])
export class RolePermission {
  @PrimaryColumn('uuid')
  roleId!: string;

  @ManyToOne(() => Role, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'role_id', foreignKeyConstraintName: 'role_permissions_role_id_fkey' })
  role?: Role;

  @PrimaryColumn({ type: 'varchar', length: 100 })
  permissionKey!: string;

  @ManyToOne(() => Permission, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'permission_key',
    referencedColumnName: 'key',
    foreignKeyConstraintName: 'role_permissions_permission_key_fkey',
  })
  permission?: Permission;

  @Column({ type: 'uuid', nullable: true })
  organizationId!: string | null;
}
