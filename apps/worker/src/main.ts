import './tracing';
import 'reflect-metadata';
import { AppLogger, createRootLogger, Metrics } from '@app/common';
import { ConfigError, loadConfig, type AppConfig } from '@app/config';
import { BullMqWorkerHost } from '@app/queue';
import { stopTracing } from '@app/telemetry';
import { createWorker } from './bootstrap';
import { startWorkerHealthServer } from './health-server';
import { WORKER_MODULES } from './worker-modules';

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
  const logger = new AppLogger(createRootLogger(config.logLevel, 'worker', undefined, config.logFormat));
  const { app, queues } = await createWorker(config, logger, WORKER_MODULES);
  const healthServer = config.workerHealthPort
    ? await startWorkerHealthServer(app.get(BullMqWorkerHost), app.get(Metrics), config.workerHealthPort, config.host)
    : undefined;
  logger.log({ ...config.summary(), queues, healthPort: config.workerHealthPort ?? null }, 'worker ready');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: finishing current jobs`, 'Shutdown');
    const deadline = Date.now() + config.shutdownTimeoutMs;
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting', 'Shutdown');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    // Probes now fail (the workers are closing) until the process is gone.
    app
      .close()
      .then(() => stopTracing(Math.max(0, deadline - Date.now() - 250)).catch(() => undefined))
      .then(
        () => {
          healthServer?.close();
          process.exit(0);
        },
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
    `worker failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
