import { AppConfig } from '@app/config';
import { Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createDataSource, settingsFor } from './data-source.factory';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded-postgres';
import { DatabaseHealth } from './database-health';
import { applyAuditRetentionFloor, checkRuntimeRole } from './database-roles';
import { runMigrations } from './migration-runner';
import { TenantTransaction } from './tenant-transaction';

export const EMBEDDED_POSTGRES = Symbol('EMBEDDED_POSTGRES');
export const DATABASE_APPLICATION_NAME = Symbol('DATABASE_APPLICATION_NAME');

/** Closes the pool, then the embedded server, when the app shuts down. */
@Injectable()
class DatabaseShutdown implements OnApplicationShutdown {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(EMBEDDED_POSTGRES) private readonly embedded: EmbeddedPostgresHandle | null,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.embedded?.stop();
  }
}

/**
 * The database: embedded PostgreSQL (PGlite) when DATABASE_URL is unset, a real server otherwise.
 * Migrations run at start on the embedded database, and with MIGRATE_ON_START=true on a real one
 * (as the owner of DATABASE_MIGRATION_URL). On PostgreSQL the login's rights are checked at start.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: { applicationName: string }) {
    return {
      module: DatabaseModule,
      providers: [
        { provide: DATABASE_APPLICATION_NAME, useValue: options.applicationName },
        {
          provide: EMBEDDED_POSTGRES,
          inject: [AppConfig],
          useFactory: async (config: AppConfig) =>
            config.database.kind === 'embedded'
              ? startEmbeddedPostgres(config.database.path, config.database.template)
              : null,
        },
        {
          provide: DataSource,
          inject: [AppConfig, EMBEDDED_POSTGRES],
          useFactory: async (config: AppConfig, embedded: EmbeddedPostgresHandle | null) => {
            const logger = new Logger('Database');
            const dataSource = createDataSource(
              settingsFor(config.database, embedded ?? undefined, options.applicationName),
            );
            if (config.database.kind === 'postgres' && config.database.migrateOnStart) {
              // As the owner, on its own connection; DATABASE_URL's login may not alter the schema.
              await runMigrations(config, (line) => logger.log(line));
            }
            await dataSource.initialize();
            if (config.database.kind === 'postgres') {
              await checkRuntimeRole(dataSource, config.database.roleCheck, (line) => logger.warn(line)).catch(
                async (error: unknown) => {
                  await dataSource.destroy();
                  throw error;
                },
              );
            }
            if (config.database.kind === 'embedded') {
              const applied = await dataSource.runMigrations({ transaction: 'each' });
              if (applied.length > 0) logger.log(`Applied ${applied.length} migration(s)`);
              await applyAuditRetentionFloor(dataSource, config.auditRetention.days, () => undefined);
            } else if (await dataSource.showMigrations()) {
              logger.error(
                'The database has pending migrations: run `npm run migration:run` (or the migrate command).',
              );
            }
            return dataSource;
          },
        },
        TenantTransaction,
        DatabaseHealth,
        DatabaseShutdown,
      ],
      exports: [DataSource, TenantTransaction, DatabaseHealth, EMBEDDED_POSTGRES],
    };
  }
}
