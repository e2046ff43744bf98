import { Column, Entity, Index } from 'typeorm';
import { BaseEntity } from './base.entity';

/** What a security event is about. */
export type SecurityEventKind = 'cross-tenant-probe' | 'permission-denied';

/**
 * One actor's refusals of one kind within one minute, counted in a single row: a caller probing
 * other organizations adds to a counter instead of adding rows, so the stream cannot flood the
 * table. Installation-wide (no RLS): platform admins read it.
 */
@Entity({ name: 'security_events' })
@Index('security_events_window_key', ['kind', 'actorType', 'actorId', 'windowStart'], { unique: true })
@Index('security_events_window_idx', ['windowStart'])
export class SecurityEvent extends BaseEntity {
  @Column({ type: 'varchar', length: 50 })
  kind!: SecurityEventKind;

  @Column({ type: 'varchar', length: 20 })
  actorType!: 'user' | 'api_key';

  @Column('uuid')
  actorId!: string;

  /** The minute this row counts. */
  @Column({ type: 'timestamptz' })
  windowStart!: Date;

  @Column({ type: 'integer' })
  count!: number;

  /** The organizations the refused requests named (the first 20 distinct ones). */
  @Column({ type: 'uuid', array: true, default: () => "'{}'" })
  organizationIds!: string[];

  /** The last refused route, as `METHOD /template`. */
  @Column({ type: 'varchar', length: 200 })
  lastRoute!: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  lastIp!: string | null;

  @Column({ type: 'timestamptz' })
  lastSeenAt!: Date;
}
