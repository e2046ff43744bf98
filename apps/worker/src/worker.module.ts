import { AuditModule } from '@app/audit';
import { MetricsModule, RequestContextModule } from '@app/common';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { EventsModule } from '@app/events';
import { JobsModule } from '@app/jobs';
import { LlmModule } from '@app/llm';
import { MailModule } from '@app/mail';
import { QueueModule } from '@app/queue';
import { Module, type DynamicModule, type Type } from '@nestjs/common';

/** The worker: same config, database and processors as the api; no HTTP server. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, extraModules: Type[] = []): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        MetricsModule,
        RequestContextModule,
        DatabaseModule.forRoot({ applicationName: 'worker' }),
        QueueModule.forRoot(config, { worker: true }),
        MailModule,
        LlmModule,
        AuditModule,
        JobsModule,
        EventsModule,
        ...extraModules,
      ],
    };
  }
}
