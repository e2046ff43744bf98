import { Column, Entity, Index, UpdateDateColumn } from 'typeorm';
import { BaseEntity } from './base.entity';

@Entity({ name: 'users' })
// Case-insensitive uniqueness lives in the migration as an expression index on lower(email).
@Index('users_email_lower_key', { synchronize: false })
export class User extends BaseEntity {
  @Column({ type: 'varchar', length: 320 })
  email!: string;

  @Column({ type: 'timestamptz', nullable: true })
  emailVerifiedAt!: Date | null;

  /** argon2id hash; null for accounts that only sign in through an identity provider. */
  @Column({ type: 'text', nullable: true })
  passwordHash!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  fullName!: string | null;

  @Column({ type: 'boolean', default: true })
  isActive!: boolean;

  @Column({ type: 'boolean', default: false })
  isPlatformAdmin!: boolean;

  @Column({ type: 'integer', default: 0 })
  failedLoginAttempts!: number;

  @Column({ type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  /** When the last sign-in attempt was reserved (see LockoutService): old reservations expire. */
  @Column({ type: 'timestamptz', nullable: true })
  attemptReservedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastLoginAt!: Date | null;

  @Column({ type: 'boolean', default: false })
  mfaEnabled!: boolean;

  /** AES-256-GCM ciphertext of the TOTP secret. */
  @Column({ type: 'text', nullable: true })
  totpSecretEncrypted!: string | null;

  /** The last accepted TOTP time step, so a code cannot be used twice. */
  @Column({ type: 'bigint', nullable: true })
  totpLastUsedStep!: string | null;

  /** SHA-256 hashes of unused recovery codes. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  recoveryCodeHashes!: string[];

  /** Set when the person erased the account: the row is then only a pseudonym (no personal data). */
  @Column({ type: 'timestamptz', nullable: true })
  erasedAt!: Date | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
