import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { buildSchemaText, SCHEMA_FILE } from './schema-file';

/** `npm run graphql:schema`: prints the schema from the resolvers into apps/api/schema.graphql. */
buildSchemaText().then(
  (text) => {
    writeFileSync(SCHEMA_FILE, text);
    process.stdout.write(`${SCHEMA_FILE}: written\n`);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
