import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from './base.entity';
import { User } from './user.entity';

/** An external identity (Google, GitHub, an OIDC issuer, ...) linked to a user. No provider tokens are kept. */
@Entity({ name: 'oauth_accounts' })
@Index('oauth_accounts_provider_subject_key', ['provider', 'providerAccountId'], { unique: true })
@Index('oauth_accounts_user_idx', ['userId'])
export class OAuthAccount extends BaseEntity {
  @Column('uuid')
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'oauth_accounts_user_id_fkey' })
  user?: User;

  @Column({ type: 'varchar', length: 50 })
  provider!: string;

  @Column({ type: 'varchar', length: 255 })
  providerAccountId!: string;

  @Column({ type: 'varchar', length: 320, nullable: true })
  email!: string | null;

  @Column({ type: 'boolean', default: false })
  emailVerified!: boolean;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;
}
