import { SetMetadata } from '@nestjs/common';
import type { JobDefinition } from './job-definition';

export const JOB_PROCESSOR_METADATA = 'app:job-processor';

/**
 * Marks a provider as the processor of a job. Processors are found by discovery,
 * so there is no hand-kept list to forget a new one in.
 */
export function JobProcessor(definition: JobDefinition<unknown>): ClassDecorator {
  return SetMetadata(JOB_PROCESSOR_METADATA, definition);
}
