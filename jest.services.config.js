// `npm run test:services`: the same e2e suites against real PostgreSQL and Redis
// (a fresh database per test file, cloned from a migrated template), plus the suites
// that need the real worker process and other services.
const shared = require('./jest.shared');

module.exports = {
  ...shared,
  displayName: 'services',
  testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts', '<rootDir>/test/services/**/*.services-spec.ts'],
  globalSetup: '<rootDir>/test/support/services-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/services-global-teardown.ts',
  testTimeout: 90_000,
  maxWorkers: 2,
};
