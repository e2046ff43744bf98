// Shared Jest settings: SWC transpiles TypeScript (with decorator metadata for Nest),
// and @app/<lib> imports resolve to the libs' sources.
const { join } = require('node:path');

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
      target: 'es2022',
    },
    module: { type: 'commonjs', lazy: true },
  },
];

// Where Node's own resolution puts the package indexes that test/support/lazy-package-index.js
// stands in for (inside a test file every resolution goes through moduleNameMapper, back to the stand-in).
const lazyIndexes = Object.fromEntries(
  ['es-toolkit', 'es-toolkit/compat'].map((name) => [name, require.resolve(name)]),
);
// The mapping hands every importer the copy at the root. Should an importer get a nested copy of
// its own (another version), stop here rather than test it against the wrong one.
for (const importer of ['@nestjs/graphql', '@nestjs/swagger']) {
  for (const [name, path] of Object.entries(lazyIndexes)) {
    const own = require.resolve(name, { paths: [join(__dirname, 'node_modules', importer)] });
    if (own !== path) {
      throw new Error(`${importer} has its own ${name} (${own}); update jest.shared.js's es-toolkit mapping`);
    }
  }
}

module.exports = {
  rootDir: __dirname,
  globals: { __lazyPackageIndexes: lazyIndexes },
  // Node's environment, with one object shared by a worker's test files (test/support/jest-environment.js),
  // and Jest's runtime with a V8 code cache for the modules the files compile (test/support/jest-runtime.js).
  testEnvironment: '<rootDir>/test/support/jest-environment.js',
  runtime: '<rootDir>/test/support/jest-runtime.js',
  transform: { '^.+\\.(t|j)s$': swc },
  // Nest 12 and a few of its dependencies ship ESM only: SWC turns them into CommonJS for Jest.
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|content-disposition|cookie|openid-client|oauth4webapi|jose)/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    // es-toolkit's indexes load its ~560 modules up front; under Jest every file would pay that
    // again for the ten functions Nest uses (test/support/lazy-package-index.js).
    '^es-toolkit$': '<rootDir>/test/support/es-toolkit.js',
    '^es-toolkit/compat$': '<rootDir>/test/support/es-toolkit-compat.js',
    '^@app/migrations$': '<rootDir>/migrations',
    '^@app/testing$': '<rootDir>/test/support',
    '^@app/([a-z-]+)$': '<rootDir>/libs/$1/src',
  },
};
