import type { LlmChatMessage, LlmJob, LlmJobStatus } from '@app/database';
import type { ChatResult, LlmUsageReport } from '@app/llm';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

const ROLES: LlmChatMessage['role'][] = ['system', 'user', 'assistant'];
const STATUSES: LlmJobStatus[] = ['queued', 'running', 'succeeded', 'failed'];

export class ChatMessageDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: LlmChatMessage['role'];

  @ApiProperty({ minLength: 1, maxLength: 100_000, example: 'Summarise our refund policy in two sentences.' })
  @IsString()
  @MinLength(1)
  @MaxLength(100_000)
  content!: string;
}

export class LlmJobRequestDto {
  @ApiProperty({ type: [ChatMessageDto], minItems: 1, maxItems: 100 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => ChatMessageDto)
  messages!: ChatMessageDto[];

  @ApiPropertyOptional({
    description: 'One of the configured models (OPENAI_MODEL, LLM_MODELS); default OPENAI_MODEL.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model?: string;

  @ApiPropertyOptional({
    minimum: 1,
    description:
      'Ceiling on completion tokens; at most LLM_MAX_TOKENS (also the default), and what the budget has left.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  maxTokens?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 2 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(2)
  temperature?: number;
}

export class ChatRequestDto extends LlmJobRequestDto {
  @ApiPropertyOptional({
    description: 'Answer as Server-Sent Events: `delta` events with text, then one `done` (or `error`) event.',
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  stream?: boolean;
}

export class TokenUsageDto {
  @ApiProperty()
  promptTokens!: number;

  @ApiProperty()
  completionTokens!: number;

  @ApiProperty()
  totalTokens!: number;

  @ApiProperty({ description: 'True when the provider reported none and the counts are estimates.' })
  estimated!: boolean;
}

export class ChatCompletionDto {
  @ApiProperty({ example: 'gpt-4o-mini' })
  model!: string;

  @ApiProperty({ type: ChatMessageDto })
  message!: ChatMessageDto;

  @ApiProperty({
    nullable: true,
    type: String,
    example: 'stop',
    description: '`length` when the token ceiling cut it.',
  })
  finishReason!: string | null;

  @ApiProperty({ type: TokenUsageDto })
  usage!: TokenUsageDto;

  static from(result: ChatResult): ChatCompletionDto {
    return {
      model: result.model,
      message: { role: 'assistant', content: result.content },
      finishReason: result.finishReason,
      usage: {
        promptTokens: result.usage.promptTokens,
        completionTokens: result.usage.completionTokens,
        totalTokens: result.usage.promptTokens + result.usage.completionTokens,
        estimated: result.usageEstimated,
      },
    };
  }
}

export class LlmJobProblemDto {
  @ApiProperty({ example: '/problems/llm-timeout' })
  type!: string;

  @ApiProperty()
  title!: string;

  @ApiProperty()
  status!: number;

  @ApiPropertyOptional()
  detail?: string;
}

export class LlmJobDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: STATUSES })
  status!: LlmJobStatus;

  @ApiProperty()
  model!: string;

  @ApiProperty({ nullable: true, type: String, description: 'The answer, once succeeded.' })
  result!: string | null;

  @ApiProperty({ nullable: true, type: String })
  finishReason!: string | null;

  @ApiProperty({ nullable: true, type: TokenUsageDto })
  usage!: Omit<TokenUsageDto, 'estimated'> | null;

  @ApiProperty({ nullable: true, type: LlmJobProblemDto, description: 'Why it failed (or the last transient error).' })
  error!: LlmJobProblemDto | null;

  @ApiProperty({ description: 'Runs so far (a provider that is down, slow or busy is tried again).' })
  attempts!: number;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty({ nullable: true, type: Date })
  completedAt!: Date | null;

  static from(job: LlmJob): LlmJobDto {
    return {
      id: job.id,
      status: job.status,
      model: job.model,
      result: job.result,
      finishReason: job.finishReason,
      usage:
        job.promptTokens === null || job.completionTokens === null
          ? null
          : {
              promptTokens: job.promptTokens,
              completionTokens: job.completionTokens,
              totalTokens: job.promptTokens + job.completionTokens,
            },
      error: job.error,
      attempts: job.attempts,
      createdAt: job.createdAt,
      completedAt: job.completedAt,
    };
  }
}

export class LlmUsageDto {
  @ApiProperty({ example: '2026-11-01', description: 'First day of the month counted (UTC).' })
  period!: string;

  @ApiProperty()
  requests!: number;

  @ApiProperty()
  promptTokens!: number;

  @ApiProperty()
  completionTokens!: number;

  @ApiProperty()
  totalTokens!: number;

  @ApiProperty({ nullable: true, type: Number, description: 'Tokens allowed this month; null: no limit.' })
  budget!: number | null;

  @ApiProperty({ nullable: true, type: Number, description: 'Tokens left this month; null: no limit.' })
  remaining!: number | null;

  @ApiProperty()
  resetsAt!: Date;

  @ApiProperty({ type: [String], description: 'Models a request may name; the first is the default.' })
  models!: string[];

  static from(report: LlmUsageReport, models: readonly string[]): LlmUsageDto {
    return { ...report, models: [...models] };
  }
}

export class LlmBudgetDto {
  @ApiProperty({
    nullable: true,
    type: Number,
    minimum: 0,
    description: 'Tokens per calendar month (UTC); 0 turns the LLM off for it; null: the installation default.',
  })
  @ValidateIf((_object, value) => value !== null)
  @IsInt()
  @Min(0)
  @Max(2_000_000_000)
  monthlyTokens!: number | null;
}
