// `npm test`: unit tests beside the code, and the e2e suites on the embedded database.
const shared = require('./jest.shared');

module.exports = {
  // Global only (a project-level testTimeout is ignored); the embedded database takes seconds to boot.
  testTimeout: 60_000,
  // Three workers on a 2-core machine (Jest's default there is one, in band): a file waits on
  // sockets, timers, worker threads and PGlite's compiler threads for about a fifth of its time,
  // and a third worker fills that. A worker whose heap passed 700 MB after a file is replaced by a
  // fresh one: the garbage of dozens of apps made every later major GC slower (one suite took six
  // times as long at the end of a worker's life as at its start). Measured in docs/testing.md.
  maxWorkers: 3,
  workerIdleMemoryLimit: '700MB',
  // npm run test:coverage: V8's own coverage of the apps and libs (not the tests), a summary on the
  // terminal and an HTML report in coverage/index.html. The thresholds are the figures of the day
  // they were set, rounded down: coverage may rise, never fall unnoticed.
  coverageProvider: 'v8',
  collectCoverageFrom: ['<rootDir>/{apps,libs}/**/src/**/*.ts', '!**/*.spec.ts', '!**/index.ts'],
  coverageReporters: ['text-summary', 'html', 'json-summary'],
  coverageDirectory: '<rootDir>/coverage',
  // 2026-12-03: statements 91.1 %, branches 87.68 %, functions 92.54 %, lines 91.1 %.
  coverageThreshold: { global: { statements: 91, branches: 87, functions: 92, lines: 91 } },
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
