import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { definedJobs, type JobDefinition, type JobHandler } from './job-definition';
import { JOB_PROCESSOR_METADATA } from './job-processor.decorator';

export interface RegisteredProcessor {
  definition: JobDefinition<unknown>;
  handler: JobHandler<unknown>;
}

/** Every @JobProcessor provider of the application, by job name. */
@Injectable()
export class ProcessorRegistry implements OnModuleInit {
  private readonly processors = new Map<string, RegisteredProcessor>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || !wrapper.metatype) continue;
      const definition = Reflect.getMetadata(JOB_PROCESSOR_METADATA, wrapper.metatype) as
        JobDefinition<unknown> | undefined;
      if (!definition) continue;
      if (this.processors.has(definition.name)) {
        throw new Error(`Two processors are registered for job "${definition.name}".`);
      }
      this.processors.set(definition.name, { definition, handler: instance as JobHandler<unknown> });
    }
    // A job nobody processes would wait (or fail) forever: say so at start-up.
    const orphans = definedJobs().filter((job) => !this.processors.has(job.name));
    if (orphans.length > 0) {
      new Logger('ProcessorRegistry').warn(
        `No processor in this application for: ${orphans.map((job) => job.name).join(', ')}`,
      );
    }
  }

  get(name: string): RegisteredProcessor | undefined {
    return this.processors.get(name);
  }

  queues(): string[] {
    return [...new Set([...this.processors.values()].map((processor) => processor.definition.queue))];
  }

  all(): RegisteredProcessor[] {
    return [...this.processors.values()];
  }
}
