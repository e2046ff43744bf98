import { Column, Entity, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { BaseEntity } from './base.entity';
import { User } from './user.entity';

/** A WebAuthn credential (passkey) of a user: its public key and what the authenticator reported. */
@Entity({ name: 'passkeys' })
@Index('passkeys_credential_id_key', ['credentialId'], { unique: true })
@Index('passkeys_user_idx', ['userId'])
export class Passkey extends BaseEntity {
  @Column('uuid')
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'passkeys_user_id_fkey' })
  user?: User;

  /** The credential id, base64url (at most 1,023 bytes by the spec). */
  @Column({ type: 'varchar', length: 1400 })
  credentialId!: string;

  /** COSE public key as the authenticator gave it. */
  @Column({ type: 'bytea' })
  publicKey!: Buffer;

  /** The signature counter last seen; 0 for authenticators that keep none. */
  @Column({ type: 'bigint', default: 0 })
  counter!: string;

  @Column({ type: 'varchar', length: 20, array: true, default: () => "'{}'" })
  transports!: string[];

  /** singleDevice, or multiDevice (synced by a platform, such as iCloud Keychain or Google Password Manager). */
  @Column({ type: 'varchar', length: 20 })
  deviceType!: string;

  /** The backup-state flag of the last sign-in. */
  @Column({ type: 'boolean' })
  backedUp!: boolean;

  /** The authenticator model (AAGUID); all zeros when it does not say. */
  @Column({ type: 'varchar', length: 36 })
  aaguid!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
