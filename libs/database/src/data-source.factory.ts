import type { DatabaseConfig } from '@app/config';
import { MIGRATIONS } from '@app/migrations';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { SnakeNamingStrategy } from './snake-naming.strategy';

export type ConnectionTarget = { url: string } | { host: string; port: number };

export interface DataSourceSettings {
  target: ConnectionTarget;
  poolSize: number;
  statementTimeoutMs: number;
  applicationName: string;
}

export function buildDataSourceOptions(settings: DataSourceSettings): DataSourceOptions {
  const target =
    'url' in settings.target
      ? { url: settings.target.url }
      : { host: settings.target.host, port: settings.target.port, username: 'postgres', database: 'postgres' };
  return {
    type: 'postgres',
    ...target,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    migrationsRun: false,
    // Migrations own the schema: the runtime login may not CREATE EXTENSION (and needs none).
    installExtensions: false,
    logging: false,
    poolSize: settings.poolSize,
    connectTimeoutMS: 5_000,
    applicationName: settings.applicationName,
    extra: {
      max: settings.poolSize,
      // Fail fast when the database is down instead of queueing requests forever.
      connectionTimeoutMillis: 5_000,
      statement_timeout: settings.statementTimeoutMs,
      idle_in_transaction_session_timeout: settings.statementTimeoutMs * 2,
    },
  };
}

export function settingsFor(
  config: DatabaseConfig,
  embeddedTarget: { host: string; port: number } | undefined,
  applicationName: string,
): DataSourceSettings {
  if (config.kind === 'postgres') {
    return {
      target: { url: config.url },
      poolSize: config.poolSize,
      statementTimeoutMs: config.statementTimeoutMs,
      applicationName,
    };
  }
  if (!embeddedTarget) throw new Error('The embedded database has not been started.');
  // PGlite has a single session: more than one pooled connection would interleave transactions.
  return { target: embeddedTarget, poolSize: 1, statementTimeoutMs: config.statementTimeoutMs, applicationName };
}

export function createDataSource(settings: DataSourceSettings): DataSource {
  return new DataSource(buildDataSourceOptions(settings));
}
