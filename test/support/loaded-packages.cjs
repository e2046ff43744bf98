// Preloaded into a built app (NODE_OPTIONS=--require) by a test: when the process exits, writes
// every module it loaded from node_modules, as its path below node_modules, one per line, to
// LOADED_PACKAGES_FILE.
const { writeFileSync } = require('node:fs');
const { isMainThread } = require('node:worker_threads');

// NODE_OPTIONS reaches worker threads too; only the process's own list is wanted.
process.on('exit', () => {
  if (!isMainThread) return;
  const paths = Object.keys(require.cache)
    .map((path) => path.replace(/\\/g, '/'))
    .filter((path) => path.includes('/node_modules/'))
    .map((path) => path.slice(path.lastIndexOf('/node_modules/') + '/node_modules/'.length));
  writeFileSync(process.env.LOADED_PACKAGES_FILE, paths.sort().join('\n'));
});
