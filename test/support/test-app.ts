import { AppLogger } from '@app/common';
import { AppConfig } from '@app/config';
import type { Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { createApiApp } from '../../apps/api/src/bootstrap';
import { readServicesEnv } from './services-env';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  database: TestDatabase;
  dataSource: DataSource;
  /** Fastify's in-process request injection: real routing, hooks and serialisation, no socket. */
  inject: NestFastifyApplication['inject'];
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string | undefined>;
  /** Extra modules mounted under /api/v1, for tests of framework building blocks. */
  modules?: Type[];
  /** Use Redis (test:services only): REDIS_URL is set with a queue prefix unique to this app. */
  redis?: boolean;
  /** A second replica: same database (and same JWT secret), closed without dropping it. */
  replicaOf?: TestApp;
  /** A database made by the test (dropped on close); DATABASE_URL in `env` may sign in as another login. */
  database?: TestDatabase;
  /** Instead of the silent logger (e.g. to check what reaches the logs). */
  logger?: AppLogger;
}

export const silentLogger = () => new AppLogger(pino({ level: 'silent' }));

/** Boots the real api (ApiModule on Fastify) on a fresh database. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.replicaOf
    ? { ...options.replicaOf.database, drop: () => Promise.resolve() }
    : (options.database ?? (await createTestDatabase()));
  const services = readServicesEnv();
  const redisEnv: Record<string, string | undefined> =
    options.redis && services
      ? {
          REDIS_URL: services.redisUrl,
          QUEUE_PREFIX: `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
        }
      : { REDIS_URL: undefined };
  const env: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'test-secret-that-is-long-enough-for-production-000',
    SMTP_URL: undefined,
    // Suites about other features make many requests from one address; the rate-limit suites set real limits.
    RATE_LIMIT_PER_MINUTE: '1000000',
    AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
    ...database.env,
    // The suites sign in as the schema owner on PostgreSQL (they inspect tables directly), so the
    // production default (refuse such a login) would stop the ones run with NODE_ENV=production.
    // database-roles.services-spec runs the api on a least-privilege login and checks the refusal.
    ...(database.kind === 'postgres' ? { DATABASE_ROLE_CHECK: 'warn' } : {}),
    ...redisEnv,
    ...(options.replicaOf
      ? { JWT_SECRET: options.replicaOf.config.jwtSecret, QUEUE_PREFIX: options.replicaOf.config.queuePrefix }
      : {}),
    ...options.env,
  };
  // A test that keeps its embedded database in a directory starts it empty (the archive is for memory://).
  if (env.EMBEDDED_DB_PATH && !env.EMBEDDED_DB_PATH.startsWith('memory://')) delete env.EMBEDDED_DB_TEMPLATE;
  const config = AppConfig.fromEnv(env);
  const app = await createApiApp(config, { logger: options.logger ?? silentLogger(), extraModules: options.modules });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    config,
    database,
    dataSource: app.get(DataSource),
    inject: app.inject.bind(app),
    async close() {
      await app.close();
      await database.drop();
    },
  };
}
