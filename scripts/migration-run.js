#!/usr/bin/env node
// npm run migration:run: applies pending migrations to DATABASE_URL, straight from the sources.
// (Built images run the same code with `node dist/apps/api/apps/api/src/main.js migrate`.)
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const result = spawnSync(
  process.execPath,
  ['-r', '@swc-node/register', '-r', 'tsconfig-paths/register', join(root, 'apps/api/src/main.ts'), 'migrate'],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
