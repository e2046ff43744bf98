import type { AuditLog } from '@app/database';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';

const ACTOR_TYPES = ['user', 'api_key', 'system', 'scim_token'] as const;
const OUTCOMES = ['success', 'failure', 'denied'] as const;

/** `?cursor=&limit=`: keyset pages; the cursor is opaque. */
export class CursorQueryDto {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit = 50;
}

export class AuditLogQueryDto extends CursorQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all', { message: 'actorId must be a UUID' })
  actorId?: string;

  @ApiPropertyOptional({
    enum: ACTOR_TYPES,
    description: 'Who acted: scim_token gives the provisioning log (everything the directory changed).',
  })
  @IsOptional()
  @IsIn(ACTOR_TYPES, { message: `actorType must be one of ${ACTOR_TYPES.join(', ')}` })
  actorType?: (typeof ACTOR_TYPES)[number];

  @ApiPropertyOptional({ example: 'member.add', description: 'Exact action, or a prefix ending in * (auth.*).' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(/^[a-z0-9_.-]+\*?$/, { message: 'action must be an action name, optionally ending in *' })
  action?: string;

  @ApiPropertyOptional({ example: 'user' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  targetType?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  targetId?: string;

  @ApiPropertyOptional({ enum: OUTCOMES })
  @IsOptional()
  @IsIn(OUTCOMES, { message: `outcome must be one of ${OUTCOMES.join(', ')}` })
  outcome?: (typeof OUTCOMES)[number];

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Inclusive.' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'from must be an ISO 8601 date-time' })
  from?: Date;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Exclusive.' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'to must be an ISO 8601 date-time' })
  to?: Date;
}

export class AdminAuditLogQueryDto extends AuditLogQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'One organization; omitted: all, and installation-level events.',
  })
  @IsOptional()
  @IsUUID('all', { message: 'organizationId must be a UUID' })
  organizationId?: string;
}

export class ExportQueryDto extends AuditLogQueryDto {
  @ApiPropertyOptional({ enum: ['ndjson', 'csv'], default: 'ndjson' })
  @IsOptional()
  @IsIn(['ndjson', 'csv'], { message: 'format must be ndjson or csv' })
  format: 'ndjson' | 'csv' = 'ndjson';
}

/** The caller's own events: just the cursor and page size. */
export class SecurityEventQueryDto extends CursorQueryDto {}

export class AuditLogDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  occurredAt!: Date;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  organizationId!: string | null;

  @ApiProperty({ enum: ['user', 'api_key', 'system'] })
  actorType!: string;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  actorId!: string | null;

  @ApiProperty({ example: 'member.add' })
  action!: string;

  @ApiProperty({ nullable: true, type: String })
  targetType!: string | null;

  @ApiProperty({ nullable: true, type: String })
  targetId!: string | null;

  @ApiProperty({ enum: OUTCOMES })
  outcome!: string;

  @ApiProperty({ nullable: true, type: String })
  ip!: string | null;

  @ApiProperty({ nullable: true, type: String })
  userAgent!: string | null;

  @ApiProperty({ nullable: true, type: String })
  requestId!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata!: Record<string, unknown>;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    description: 'The platform admin who acted as the actor (impersonation).',
  })
  impersonatorId!: string | null;

  @ApiProperty({
    nullable: true,
    type: Date,
    description: 'When the personal data of this row was erased with its subject’s account.',
  })
  erasedAt!: Date | null;

  @ApiProperty({ description: 'Position in the organization’s chain.' })
  chainSeq!: number;

  @ApiProperty({ description: 'SHA-256 chaining this row to the previous one.' })
  hash!: string;

  static from(row: AuditLog): AuditLogDto {
    return {
      id: row.id,
      occurredAt: row.occurredAt,
      organizationId: row.organizationId,
      actorType: row.actorType,
      actorId: row.actorId,
      action: row.action,
      targetType: row.targetType,
      targetId: row.targetId,
      outcome: row.outcome,
      ip: row.ip,
      userAgent: row.userAgent,
      requestId: row.requestId,
      metadata: row.metadata,
      impersonatorId: row.impersonatorId,
      erasedAt: row.erasedAt,
      chainSeq: Number(row.chainSeq),
      hash: row.hash,
    };
  }
}

export class AuditLogPageDto {
  @ApiProperty({ type: [AuditLogDto] })
  items!: AuditLogDto[];

  @ApiProperty({ nullable: true, type: String, description: 'Pass as ?cursor= for the next page; null at the end.' })
  nextCursor!: string | null;
}

export class BrokenLinkDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  chainSeq!: number;

  @ApiProperty({ enum: ['content-changed', 'link-broken', 'row-missing'] })
  reason!: string;
}

export class ChainVerificationDto {
  @ApiProperty()
  valid!: boolean;

  @ApiProperty({ description: 'Rows checked.' })
  checked!: number;

  @ApiProperty({ type: BrokenLinkDto, nullable: true })
  firstBroken!: BrokenLinkDto | null;
}
