#!/usr/bin/env node
// npm run cli -- <command> [args]: operator commands (see apps/api/src/cli.ts), straight from the sources.
// Built images run the same code with `node dist/apps/api/apps/api/src/cli.js <command>`.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const result = spawnSync(
  process.execPath,
  [
    '-r',
    '@swc-node/register',
    '-r',
    'tsconfig-paths/register',
    join(root, 'apps/api/src/cli.ts'),
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
