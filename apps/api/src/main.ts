import './tracing';
import 'reflect-metadata';
import { createAppLogger, Metrics } from '@app/common';
import { ConfigError, loadConfig, type AppConfig } from '@app/config';
import { revertLastMigration, runMigrations } from '@app/database';
import { stopTracing } from '@app/telemetry';
import { createApiApp } from './bootstrap';
import { drainHttp } from './http-drain';
import { prepareApiDocs } from './openapi/openapi';
import { startMetricsServer } from './metrics';

function readConfig(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createAppLogger(config.logLevel, 'api', undefined, config.logFormat);

  // `node dist/apps/api/main.js migrate`: apply migrations and exit (the compose migrate step).
  if (process.argv[2] === 'migrate' || process.argv[2] === 'migrate:revert') {
    const command = process.argv[2];
    const log = (line: string) => logger.log(line, 'Migrations');
    try {
      if (command === 'migrate') await runMigrations(config, log);
      // `… main.js migrate:revert`: undo the last applied migration and exit (npm run migration:revert).
      else await revertLastMigration(config, log);
    } catch (error) {
      // An operator's command: the reason, without a stack trace.
      process.stderr.write(`${command} failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    }
    return;
  }

  const started = Date.now();
  const app = await createApiApp(config, { logger });
  prepareApiDocs(app);
  await app.listen({ port: config.port, host: config.host });
  const metricsServer = config.metrics.port
    ? await startMetricsServer(app.get(Metrics), config.metrics.port, config.host)
    : undefined;
  logger.log({ ...config.summary(), startupMs: Date.now() - started }, `api listening on ${await app.getUrl()}`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: draining`, 'Shutdown');
    const deadline = Date.now() + config.shutdownTimeoutMs;
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting', 'Shutdown');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    metricsServer?.close();
    // The listener closes first (new connections are refused), the requests already received
    // finish, then Nest closes pools and queues. Most of the budget goes to the requests.
    drainHttp(app, Math.floor(config.shutdownTimeoutMs * 0.8))
      .then((drained) => {
        if (drained) logger.log('requests finished; every connection closed', 'Shutdown');
        else logger.warn('drain budget spent; closing the connections still open', 'Shutdown');
        return app.close();
      })
      // Spans still buffered go out before the process does (bounded by the exporter's timeout).
      .then(() => stopTracing(Math.max(0, deadline - Date.now() - 250)).catch(() => undefined))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(error instanceof Error ? error : String(error), 'Shutdown');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `api failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
