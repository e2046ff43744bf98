// `npm test`: unit tests beside the code, and the e2e suites on the embedded database.
const shared = require('./jest.shared');

module.exports = {
  // Global only (a project-level testTimeout is ignored); the embedded database takes seconds to boot.
  testTimeout: 60_000,
  // Two workers on a 2-core machine (Jest's default there is one, in band): most suites wait on
  // sockets, timers and PGlite as much as they compute. Measured in docs/testing.md.
  maxWorkers: 2,
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
