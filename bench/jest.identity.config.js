// `npm run bench:identity`: the measurements in bench/*.bench.ts (SSO latency, SCIM) on the embedded
// database; with BENCH_SERVICES=1 on PostgreSQL + Redis like `npm run test:services`.
const shared = require('../jest.shared');
const services = process.env.BENCH_SERVICES === '1';

module.exports = {
  ...shared,
  rootDir: require('node:path').join(__dirname, '..'),
  testMatch: ['<rootDir>/bench/*.bench.ts'],
  testTimeout: 600_000,
  ...(services
    ? {
        globalSetup: '<rootDir>/test/support/services-global-setup.ts',
        globalTeardown: '<rootDir>/test/support/services-global-teardown.ts',
      }
    : {}),
};
