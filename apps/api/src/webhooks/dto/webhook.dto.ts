import type { WebhookDelivery, WebhookEndpoint } from '@app/database';
import { webhookId } from '@app/events';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { NoSpoofing, OmittableField, pageOf } from '../../common/dto-fields';
import { PageQueryDto } from '../../common/page-query.dto';
import { shown, type ShownRow } from '../../common/shown-fields';

/** What an endpoint's listing shows and reads: never its sealed secrets. */
export const WEBHOOK_ENDPOINT_SHOWN = shown<WebhookEndpoint>()(
  'id',
  'url',
  'description',
  'eventTypes',
  'enabled',
  'failingSince',
  'disabledReason',
  'previousSecretExpiresAt',
  'createdAt',
  'updatedAt',
);

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateWebhookEndpointDto {
  @ApiProperty({
    example: 'https://hooks.example.com/saas',
    description:
      'https (http only with WEBHOOK_ALLOW_HTTP), no credentials, not a private address; at most 2048 characters.',
  })
  @Transform(trim)
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiPropertyOptional({ example: 'Billing sync' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(500)
  @Matches(/^[^\p{Cc}]*$/u, { message: 'description must not contain control characters' })
  @NoSpoofing()
  description?: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['team.updated', 'member.added'],
    description: 'Event types it takes (GET /webhooks/event-types); none: every type.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  eventTypes?: string[];

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateWebhookEndpointDto {
  @ApiPropertyOptional()
  @OmittableField()
  @Transform(trim)
  @IsString()
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(500)
  @Matches(/^[^\p{Cc}]*$/u, { message: 'description must not contain control characters' })
  @NoSpoofing()
  description?: string | null;

  @ApiPropertyOptional({ type: [String] })
  @OmittableField()
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  eventTypes?: string[];

  @ApiPropertyOptional({ description: 'true re-enables an endpoint disabled for failing (and forgets the failures).' })
  @OmittableField()
  @IsBoolean()
  enabled?: boolean;
}

export class WebhookEndpointDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  url!: string;

  @ApiProperty({ nullable: true, type: String })
  description!: string | null;

  @ApiProperty({ type: [String], description: 'Empty: every event type.' })
  eventTypes!: string[];

  @ApiProperty()
  enabled!: boolean;

  @ApiProperty({ nullable: true, type: Date, description: 'Since when every delivery has failed.' })
  failingSince!: Date | null;

  @ApiProperty({ nullable: true, type: String, description: 'Why it was disabled, when the api disabled it.' })
  disabledReason!: string | null;

  @ApiProperty({ nullable: true, type: Date, description: 'Until when the previous secret also signs (a rotation).' })
  previousSecretExpiresAt!: Date | null;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  updatedAt!: Date;

  static from(row: ShownRow<typeof WEBHOOK_ENDPOINT_SHOWN>): WebhookEndpointDto {
    return {
      id: row.id,
      url: row.url,
      description: row.description,
      eventTypes: row.eventTypes,
      enabled: row.enabled,
      failingSince: row.failingSince,
      disabledReason: row.disabledReason,
      previousSecretExpiresAt:
        row.previousSecretExpiresAt && row.previousSecretExpiresAt > new Date() ? row.previousSecretExpiresAt : null,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }
}

export class WebhookSecretDto {
  @ApiProperty({
    description: 'The signing secret (whsec_…), for the receiver’s Standard Webhooks verifier: shown this once.',
  })
  secret!: string;
}

export class CreatedWebhookEndpointDto extends WebhookEndpointDto {
  @ApiProperty({ description: 'The signing secret (whsec_…): shown this once.' })
  secret!: string;
}

export class WebhookDeliveryDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'The webhook-id header of every attempt (receivers drop repeats by it).' })
  webhookId!: string;

  @ApiProperty({ format: 'uuid' })
  eventId!: string;

  @ApiProperty()
  eventType!: string;

  @ApiProperty({ enum: ['pending', 'succeeded', 'failed'] })
  status!: string;

  @ApiProperty()
  attempts!: number;

  @ApiProperty({ nullable: true, type: Date })
  nextAttemptAt!: Date | null;

  @ApiProperty({ nullable: true, type: Number })
  lastStatusCode!: number | null;

  @ApiProperty({ nullable: true, type: Number })
  lastLatencyMs!: number | null;

  @ApiProperty({ nullable: true, type: String, description: 'The first 1,000 characters of the last answer.' })
  lastResponseBody!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'Why the last attempt failed.' })
  lastError!: string | null;

  @ApiProperty({ nullable: true, type: Date })
  deliveredAt!: Date | null;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The body sent: {type, timestamp, data}.' })
  payload!: Record<string, unknown>;

  static from(row: WebhookDelivery): WebhookDeliveryDto {
    return {
      id: row.id,
      webhookId: webhookId(row.id),
      eventId: row.eventId,
      eventType: row.eventType,
      status: row.status,
      attempts: row.attempts,
      nextAttemptAt: row.nextAttemptAt,
      lastStatusCode: row.lastStatusCode,
      lastLatencyMs: row.lastLatencyMs,
      lastResponseBody: row.lastResponseBody,
      lastError: row.lastError,
      deliveredAt: row.deliveredAt,
      createdAt: row.createdAt,
      payload: JSON.parse(row.body) as Record<string, unknown>,
    };
  }
}

export class WebhookDeliveryPageDto extends pageOf(WebhookDeliveryDto) {}

export class WebhookDeliveryQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['pending', 'succeeded', 'failed'] })
  @IsOptional()
  @IsIn(['pending', 'succeeded', 'failed'], { message: 'status must be pending, succeeded or failed' })
  status?: 'pending' | 'succeeded' | 'failed';
}

export class WebhookEventTypeDto {
  @ApiProperty({ example: 'team.updated' })
  type!: string;

  @ApiProperty()
  description!: string;

  @ApiProperty({ description: 'The permission that sees it on the realtime stream.' })
  permission!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON Schema of the body.' })
  schema!: Record<string, unknown>;
}

export class SentTestEventDto {
  @ApiProperty({ format: 'uuid', description: 'The delivery to follow in the log.' })
  deliveryId!: string;
}
