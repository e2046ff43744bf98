import { Column, Entity, Index, UpdateDateColumn } from 'typeorm';
import { BaseEntity } from './base.entity';

/** The tenant. Every tenant-owned row points at one. */
@Entity({ name: 'organizations' })
@Index('organizations_slug_key', ['slug'], { unique: true })
export class Organization extends BaseEntity {
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 100 })
  slug!: string;

  /** Tokens it may use per month; null: LLM_MONTHLY_TOKEN_BUDGET applies. Set by platform admins. */
  @Column({ type: 'integer', nullable: true })
  llmMonthlyTokenBudget!: number | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
