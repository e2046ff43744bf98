// `npm test`: unit tests beside the code, and the e2e suites on the embedded database.
const shared = require('./jest.shared');

module.exports = {
  // Global only (a project-level testTimeout is ignored); the embedded database takes seconds to boot.
  testTimeout: 60_000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
