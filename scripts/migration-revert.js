#!/usr/bin/env node
// npm run migration:revert: undoes the last migration applied to DATABASE_URL (its `down`), one per
// run, straight from the sources. Built images: `node dist/apps/api/apps/api/src/main.js migrate:revert`.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const result = spawnSync(
  process.execPath,
  ['-r', '@swc-node/register', '-r', 'tsconfig-paths/register', join(root, 'apps/api/src/main.ts'), 'migrate:revert'],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
