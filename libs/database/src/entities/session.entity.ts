import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from './base.entity';
import { User } from './user.entity';

/** One sign-in: the family of refresh tokens that rotate from it. */
@Entity({ name: 'sessions' })
@Index('sessions_user_idx', ['userId'])
@Index('sessions_impersonator_idx', ['impersonatorId'])
export class Session extends BaseEntity {
  @Column('uuid')
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'sessions_user_id_fkey' })
  user?: User;

  /** How the session was established: password, mfa, oauth:<provider>. */
  @Column({ type: 'varchar', length: 50 })
  authMethod!: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;

  @Column({ type: 'timestamptz' })
  lastUsedAt!: Date;

  /**
   * When its owner last proved presence: the sign-in, or a later step-up. Sensitive changes need
   * this to be recent (STEP_UP_MAX_AGE).
   */
  @Column({ type: 'timestamptz', default: () => 'now()' })
  verifiedAt!: Date;

  /** Absolute end of the session, whatever its activity. */
  @Column({ type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'varchar', length: 50, nullable: true })
  revokedReason!: string | null;

  /** The platform admin acting as the user (RFC 8693 `act`), for an impersonation session. */
  @Column({ type: 'uuid', nullable: true })
  impersonatorId!: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'impersonator_id', foreignKeyConstraintName: 'sessions_impersonator_id_fkey' })
  impersonator?: User;

  /** Why the admin acts as the user (required to start). */
  @Column({ type: 'varchar', length: 500, nullable: true })
  impersonationReason!: string | null;

  /** Whether the impersonation may change anything (read-only by default). */
  @Column({ type: 'boolean', default: false })
  impersonationWrite!: boolean;
}
