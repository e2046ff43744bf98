import { ValidationProblemException } from '@app/common';
import { Injectable, type PipeTransform } from '@nestjs/common';

const JOB_ID = /^[A-Za-z0-9:._-]{1,100}$/;

/** Job ids are ours (UUIDs, outbox row ids) or BullMQ's counters: short and plain. */
@Injectable()
export class JobIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!JOB_ID.test(value)) throw new ValidationProblemException([{ field: 'jobId', message: 'not a job id' }]);
    return value;
  }
}
