// `npm run bench:sso`: the SSO latency measurement (bench/sso-latency.bench.ts) on the embedded
// database; with --services (BENCH_SERVICES=1) on PostgreSQL + Redis like `npm run test:services`.
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
