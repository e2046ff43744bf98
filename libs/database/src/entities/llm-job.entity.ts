import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';

export type LlmJobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface LlmChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The problem a failed job ended with (what a synchronous call would have answered). */
export interface LlmJobProblem {
  type: string;
  title: string;
  status: number;
  detail?: string;
}

/** A chat completion asked for in the background: the request, then its answer or its failure. */
@Entity({ name: 'llm_jobs' })
@Index('llm_jobs_organization_created_idx', ['organizationId', 'createdAt'])
export class LlmJob extends BaseEntity {
  @Column('uuid')
  organizationId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'llm_jobs_organization_id_fkey' })
  organization?: Organization;

  /** The user or API key that asked; only they can read the job. */
  @Column('uuid')
  requestedBy!: string;

  @Column({ type: 'varchar', length: 20, default: 'queued' })
  status!: LlmJobStatus;

  @Column({ type: 'varchar', length: 200 })
  model!: string;

  @Column({ type: 'jsonb' })
  messages!: LlmChatMessage[];

  @Column({ type: 'integer' })
  maxTokens!: number;

  @Column({ type: 'real', nullable: true })
  temperature!: number | null;

  @Column({ type: 'text', nullable: true })
  result!: string | null;

  @Column({ type: 'varchar', length: 40, nullable: true })
  finishReason!: string | null;

  @Column({ type: 'integer', nullable: true })
  promptTokens!: number | null;

  @Column({ type: 'integer', nullable: true })
  completionTokens!: number | null;

  /** The problem (status, type, title, detail) a failed job ended with. */
  @Column({ type: 'jsonb', nullable: true })
  error!: LlmJobProblem | null;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ type: 'timestamptz', nullable: true })
  completedAt!: Date | null;
}
