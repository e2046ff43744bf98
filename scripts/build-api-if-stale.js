#!/usr/bin/env node
// npm start's build step: `nest build api`, unless dist/ already holds the build of exactly these
// sources. The api's inputs (its sources, the libs, the migrations, the TypeScript and Nest
// settings, the lockfile) are listed with their sizes and modification times; a hash of that list
// is written beside the build once it succeeds, and a start whose list hashes the same skips the
// ~11 s compile. Any edit, new file or deleted file changes the list; any other build (npm run
// build, nest start) empties dist/ first and with it the stamp, so the next start compiles again.
'use strict';

const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const SOURCE_DIRS = ['apps/api/src', 'libs', 'migrations'];
const SETTINGS = ['tsconfig.json', 'apps/api/tsconfig.app.json', 'nest-cli.json', 'package-lock.json'];
const MAIN = 'dist/apps/api/apps/api/src/main.js';
const STAMP = 'dist/apps/api/.sources-stamp';

function* sourceFiles(root, dir) {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(root, path);
    // .json too: with resolveJsonModule, tsc copies an imported JSON file into the build.
    else if (/\.(ts|json)$/.test(entry.name) && !entry.name.endsWith('.spec.ts')) yield path;
  }
}

/** A hash of every input's path, size and modification time. */
function sourcesStamp(root) {
  const files = [...SOURCE_DIRS.flatMap((dir) => [...sourceFiles(root, dir)]), ...SETTINGS].sort();
  const hash = createHash('sha256');
  for (const file of files) {
    const stat = statSync(join(root, file), { throwIfNoEntry: false });
    hash.update(`${file}\0${stat ? `${stat.size}\0${stat.mtimeMs}` : 'missing'}\n`);
  }
  return hash.digest('hex');
}

/** Whether dist/ holds a build made from sources that hash to `stamp`. */
function buildIsCurrent(root, stamp) {
  if (!existsSync(join(root, MAIN))) return false;
  try {
    return readFileSync(join(root, STAMP), 'utf8') === stamp;
  } catch {
    return false;
  }
}

function main(root) {
  // Taken before compiling: a file saved during the build makes the next start compile again.
  const stamp = sourcesStamp(root);
  if (buildIsCurrent(root, stamp)) {
    process.stdout.write('api build is current (no source changed since it was made)\n');
    return 0;
  }
  const nest = require.resolve('@nestjs/cli/bin/nest.js', { paths: [root] });
  const build = spawnSync(process.execPath, [nest, 'build', 'api'], { stdio: 'inherit', cwd: root });
  if (build.status !== 0) return build.status ?? 1;
  writeFileSync(join(root, STAMP), stamp);
  return 0;
}

module.exports = { sourcesStamp, buildIsCurrent, MAIN, STAMP };

if (require.main === module) process.exit(main(join(__dirname, '..')));
