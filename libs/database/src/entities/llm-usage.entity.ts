import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Organization } from './organization.entity';

/** Counts as numbers: a month of one organization's tokens stays far below 2^53. */
const bigintAsNumber = { to: (value: number) => value, from: (value: string | null) => Number(value ?? 0) };

/** Tokens one organization used in one calendar month (UTC), added to after every LLM call. */
@Entity({ name: 'llm_usage' })
export class LlmUsage {
  @PrimaryColumn('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'llm_usage_organization_id_fkey' })
  organization?: Organization;

  /** First day of the month, UTC. */
  @PrimaryColumn({ type: 'date' })
  period!: string;

  @Column({ type: 'integer', default: 0 })
  requests!: number;

  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber })
  promptTokens!: number;

  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber })
  completionTokens!: number;
}
