#!/usr/bin/env node
// npm run migration:run / migration:revert: applies pending migrations to DATABASE_URL, or undoes
// the last one (its `down`, one per run), straight from the sources. Built images run the same code
// with `node dist/apps/api/apps/api/src/main.js migrate` (or `migrate:revert`).
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const command = process.argv[2] === 'revert' ? 'migrate:revert' : 'migrate';
const root = join(__dirname, '..');
const result = spawnSync(
  process.execPath,
  ['-r', '@swc-node/register', '-r', 'tsconfig-paths/register', join(root, 'apps/api/src/main.ts'), command],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
