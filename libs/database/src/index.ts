export * from './entities';
export { DatabaseModule, EMBEDDED_POSTGRES } from './database.module';
export { DatabaseHealth } from './database-health';
export { TenantTransaction, APP_DB_ROLE } from './tenant-transaction';
export { buildDataSourceOptions, createDataSource, settingsFor, type DataSourceSettings } from './data-source.factory';
export { isInMemory, startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded-postgres';
export { writeMigratedSnapshot } from './embedded-snapshot';
export { runMigrations } from './migration-runner';
export { SnakeNamingStrategy } from './snake-naming.strategy';
