import type { DeadLetter } from '@app/queue';
import { ApiProperty } from '@nestjs/swagger';
import { pageOf } from '../../common/dto-fields';

export class DeadLetterDto {
  @ApiProperty({ description: 'The job id (for outbox jobs, the outbox row id).' })
  id!: string;

  @ApiProperty({ example: 'mail.send' })
  name!: string;

  @ApiProperty({ example: 'default' })
  queue!: string;

  @ApiProperty()
  attemptsMade!: number;

  @ApiProperty({ nullable: true, type: String, description: 'The last error message.' })
  error!: string | null;

  @ApiProperty({ nullable: true, type: Date })
  enqueuedAt!: Date | null;

  @ApiProperty({ nullable: true, type: Date })
  failedAt!: Date | null;

  static from(letter: DeadLetter): DeadLetterDto {
    const { id, name, queue, attemptsMade, error, enqueuedAt, failedAt } = letter;
    return { id, name, queue, attemptsMade, error, enqueuedAt, failedAt };
  }
}

export class DeadLetterPageDto extends pageOf(DeadLetterDto) {}
