import { Column, Entity, PrimaryColumn } from 'typeorm';

export type RoleScope = 'organization' | 'team';

/** The permission catalogue: code-defined keys, synced to this table at start. */
@Entity({ name: 'permissions' })
export class Permission {
  /** `resource:action`, e.g. `teams:create`. */
  @PrimaryColumn({ type: 'varchar', length: 100 })
  key!: string;

  @Column({ type: 'text' })
  description!: string;

  /** The scopes a role holding this permission may have. */
  @Column({ type: 'varchar', length: 20, array: true })
  scopes!: RoleScope[];
}
