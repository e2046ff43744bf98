import type { DependencyFinding, DependencyReport, DependencyStatus } from '@app/database';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const STATUSES: DependencyStatus[] = ['up-to-date', 'patch', 'minor', 'major', 'unknown'];

export class DependencyFindingDto {
  @ApiProperty({ example: 'bullmq' })
  name!: string;

  @ApiProperty({ enum: ['dependency', 'devDependency'] })
  kind!: DependencyFinding['kind'];

  @ApiProperty({ example: '^5.0.0', description: 'The range package.json asks for.' })
  wanted!: string;

  @ApiProperty({ example: '5.1.0' })
  installed!: string;

  @ApiProperty({ nullable: true, type: String, example: '6.0.2' })
  latest!: string | null;

  @ApiProperty({ enum: STATUSES, description: 'How far behind the installed version is; `unknown` with `error`.' })
  status!: DependencyStatus;

  @ApiProperty({ nullable: true, type: Boolean, description: 'Whether `npm update` would reach the latest version.' })
  inRange!: boolean | null;

  @ApiPropertyOptional({ example: 'registry answered 503' })
  error?: string;
}

export class DependencySummaryDto {
  @ApiProperty()
  total!: number;

  @ApiProperty({ name: 'up-to-date' })
  'up-to-date'!: number;

  @ApiProperty()
  patch!: number;

  @ApiProperty()
  minor!: number;

  @ApiProperty()
  major!: number;

  @ApiProperty()
  unknown!: number;
}

export class DependencyReportDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  checkedAt!: Date;

  @ApiProperty({ example: 'https://registry.npmjs.org' })
  registry!: string;

  @ApiProperty()
  durationMs!: number;

  @ApiProperty({ type: DependencySummaryDto })
  summary!: DependencySummaryDto;

  @ApiProperty({ type: [DependencyFindingDto], description: 'By name.' })
  packages!: DependencyFindingDto[];

  static from(report: DependencyReport): DependencyReportDto {
    return {
      id: report.id,
      checkedAt: report.createdAt,
      registry: report.registry,
      durationMs: report.durationMs,
      summary: report.summary,
      packages: report.packages,
    };
  }
}

export class DependencyCheckQueuedDto {
  @ApiProperty({ description: 'The job id (see /admin/jobs if it fails).' })
  jobId!: string;
}
