import 'reflect-metadata';
import { AppLogger, createRootLogger } from '@app/common';
import { ConfigError, loadConfig } from '@app/config';
import { writeMigratedSnapshot } from '@app/database';
import { NestFactory } from '@nestjs/core';
import { ApiModule } from './api.module';
import { PlatformAdminService } from './users/platform-admin.service';

const USAGE = `Usage: npm run cli -- <command>

Commands:
  admin:grant <email>    make the user with this email a platform admin
  admin:revoke <email>   take platform admin away (refused for the last one)
  db:snapshot <file>     migrate a new in-memory embedded database and write it to <file>, an
                         archive that EMBEDDED_DB_PATH=memory:// starts from with EMBEDDED_DB_TEMPLATE

Runs against the configured database (DATABASE_URL). With the embedded database, stop the api first:
only one process may open its data directory. Every change is audited (via: cli).`;

/** Operator commands, run with the api's own modules and configuration, without an HTTP server. */
async function main(): Promise<number> {
  const [command, email] = process.argv.slice(2);
  if (command === 'db:snapshot' && email) {
    const applied = await writeMigratedSnapshot(email);
    process.stdout.write(`${email}: an embedded database with ${applied} migration(s) applied\n`);
    return 0;
  }
  if ((command !== 'admin:grant' && command !== 'admin:revoke') || !email) {
    process.stderr.write(`${USAGE}\n`);
    return command === 'help' || command === '--help' ? 0 : 2;
  }
  const config = loadConfig();
  const logger = new AppLogger(
    createRootLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'cli', undefined, config.logFormat),
  );
  const app = await NestFactory.createApplicationContext(ApiModule.forRoot(config), { logger });
  try {
    const user = await app.get(PlatformAdminService).setByEmail(email, command === 'admin:grant', 'cli');
    process.stdout.write(
      `${user.email} (${user.id}) is ${user.isPlatformAdmin ? 'now a platform admin' : 'no longer a platform admin'}\n`,
    );
    return 0;
  } finally {
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
