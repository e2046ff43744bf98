#!/usr/bin/env node
// npm run graphql:schema: writes apps/api/schema.graphql from the resolvers (apps/api/src/graphql).
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const result = spawnSync(
  process.execPath,
  ['-r', '@swc-node/register', '-r', 'tsconfig-paths/register', join(root, 'apps/api/src/graphql/write-schema.ts')],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
