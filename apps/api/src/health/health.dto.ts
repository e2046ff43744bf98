import { ApiProperty } from '@nestjs/swagger';

export class LivenessDto {
  @ApiProperty({ example: 'ok' })
  status!: 'ok';
}

export class ReadinessDto {
  @ApiProperty({ example: 'ok' })
  status!: 'ok';

  @ApiProperty({ example: { database: 'up', redis: 'up' }, additionalProperties: { enum: ['up', 'down'] } })
  checks!: Record<string, 'up' | 'down'>;
}
