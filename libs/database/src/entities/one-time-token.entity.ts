import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from './base.entity';
import { User } from './user.entity';

export type OneTimeTokenPurpose = 'email_verification' | 'password_reset' | 'mfa_challenge';

/** Single-use secrets mailed or handed to a user; stored as SHA-256, never in clear. */
@Entity({ name: 'one_time_tokens' })
@Check('one_time_tokens_purpose_check', `"purpose" IN ('email_verification', 'password_reset', 'mfa_challenge')`)
@Index('one_time_tokens_token_hash_key', ['tokenHash'], { unique: true })
@Index('one_time_tokens_user_purpose_idx', ['userId', 'purpose'])
export class OneTimeToken extends BaseEntity {
  @Column('uuid')
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'one_time_tokens_user_id_fkey' })
  user?: User;

  @Column({ type: 'varchar', length: 30 })
  purpose!: OneTimeTokenPurpose;

  @Column({ type: 'char', length: 64 })
  tokenHash!: string;

  @Column({ type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  usedAt!: Date | null;
}
