#!/usr/bin/env node
// npm run migration:generate -- <kebab-name>
// Diffs the entities against DATABASE_URL (migrated to head) and writes migrations/<timestamp>-<name>.ts.
// Review the SQL, add row-level security for new tenant tables, then list the class in migrations/index.ts.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const name = process.argv[2];
if (!name || !/^[a-z][a-z0-9-]{2,60}$/.test(name)) {
  console.error('usage: npm run migration:generate -- <kebab-case-name>   (e.g. add-projects)');
  process.exit(2);
}
const root = join(__dirname, '..');
const result = spawnSync(
  process.execPath,
  [
    '-r',
    '@swc-node/register',
    '-r',
    'tsconfig-paths/register',
    join(root, 'node_modules/typeorm/cli.js'),
    'migration:generate',
    join(root, 'migrations', name),
    '-d',
    join(root, 'scripts/data-source.ts'),
    '--pretty',
  ],
  { stdio: 'inherit', cwd: root },
);
if (result.status === 0) {
  console.log(
    '\nNext: review the SQL, add RLS policies for new tenant tables, and list the class in migrations/index.ts.',
  );
}
process.exit(result.status ?? 1);
