// The DataSource the TypeORM CLI uses (migration:generate). Reads DATABASE_URL through the
// validated config, like the apps do.
import 'reflect-metadata';
import { loadConfig } from '@app/config';
import { createDataSource, settingsFor } from '@app/database';

const config = loadConfig();
if (config.database.kind !== 'postgres') {
  throw new Error('Set DATABASE_URL to a PostgreSQL database migrated to the current head.');
}

export default createDataSource(settingsFor(config.database, undefined, 'typeorm-cli'));
