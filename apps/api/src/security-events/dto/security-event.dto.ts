import type { SecurityEvent, SecurityEventKind } from '@app/database';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto';

export const SECURITY_EVENT_KINDS: readonly SecurityEventKind[] = ['cross-tenant-probe', 'permission-denied'];

export class SecurityEventQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: SECURITY_EVENT_KINDS })
  @IsOptional()
  @IsIn(SECURITY_EVENT_KINDS)
  kind?: SecurityEventKind;

  @ApiPropertyOptional({ description: 'A user id or an API key id.', format: 'uuid' })
  @IsOptional()
  @IsUUID('all', { message: 'actorId must be a UUID' })
  actorId?: string;

  @ApiPropertyOptional({ description: 'Minutes from this time on (ISO 8601).', format: 'date-time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'since must be an ISO 8601 date-time' })
  since?: Date;
}

export class SecurityEventDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: SECURITY_EVENT_KINDS })
  kind!: SecurityEventKind;

  @ApiProperty({ enum: ['user', 'api_key'] })
  actorType!: 'user' | 'api_key';

  @ApiProperty({ format: 'uuid' })
  actorId!: string;

  @ApiProperty({ description: 'The minute these refusals fell in.' })
  windowStart!: Date;

  @ApiProperty({ description: 'How many refusals of this kind the actor had in that minute.' })
  count!: number;

  @ApiProperty({
    type: [String],
    description: 'The organizations the refused requests named (the first 20 distinct ones).',
  })
  organizationIds!: string[];

  @ApiProperty({ example: 'GET /api/v1/organizations/:orgId/members' })
  lastRoute!: string;

  @ApiProperty({ type: String, nullable: true })
  lastIp!: string | null;

  @ApiProperty()
  lastSeenAt!: Date;

  static from(row: SecurityEvent): SecurityEventDto {
    return {
      id: row.id,
      kind: row.kind,
      actorType: row.actorType,
      actorId: row.actorId,
      windowStart: row.windowStart,
      count: row.count,
      organizationIds: row.organizationIds,
      lastRoute: row.lastRoute,
      lastIp: row.lastIp,
      lastSeenAt: row.lastSeenAt,
    };
  }
}
