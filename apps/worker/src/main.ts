import 'reflect-metadata';
import { AppLogger, createRootLogger } from '@app/common';
import { ConfigError, loadConfig, type AppConfig } from '@app/config';
import { createWorker } from './bootstrap';

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
  const logger = new AppLogger(createRootLogger(config.logLevel, 'worker'));
  const { app, queues } = await createWorker(config, logger);
  logger.log({ ...config.summary(), queues }, 'worker ready');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: finishing current jobs`, 'Shutdown');
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting', 'Shutdown');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    app.close().then(
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
    `worker failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
