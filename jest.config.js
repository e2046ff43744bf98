// `npm test`: unit tests beside the code, and the e2e suites on the embedded database.
const shared = require('./jest.shared');

module.exports = {
  // Global only (a project-level testTimeout is ignored); the embedded database takes seconds to boot.
  testTimeout: 60_000,
  // Two workers on a 2-core machine (Jest's default there is one, in band): most suites wait on
  // sockets, timers and PGlite as much as they compute. Measured in docs/testing.md.
  maxWorkers: 2,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
