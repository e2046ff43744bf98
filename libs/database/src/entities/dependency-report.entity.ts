import { Column, Entity, Index } from 'typeorm';
import { BaseEntity } from './base.entity';

export type DependencyStatus = 'up-to-date' | 'patch' | 'minor' | 'major' | 'unknown';

export interface DependencyFinding {
  name: string;
  kind: 'dependency' | 'devDependency';
  /** The range package.json asks for. */
  wanted: string;
  installed: string;
  latest: string | null;
  status: DependencyStatus;
  /** Whether the latest version is inside the wanted range (`npm update` would take it). */
  inRange: boolean | null;
  /** Why the latest version is unknown (registry unreachable, package not found, ...). */
  error?: string;
}

export type DependencySummary = Record<DependencyStatus, number> & { total: number };

/** One run of the dependency check: every installed package against the registry's latest version. */
@Entity({ name: 'dependency_reports' })
@Index('dependency_reports_created_idx', ['createdAt'])
export class DependencyReport extends BaseEntity {
  @Column({ type: 'varchar', length: 500 })
  registry!: string;

  @Column({ type: 'integer' })
  durationMs!: number;

  @Column({ type: 'jsonb' })
  summary!: DependencySummary;

  @Column({ type: 'jsonb' })
  packages!: DependencyFinding[];
}
