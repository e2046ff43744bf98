// Shared Jest settings: SWC transpiles TypeScript (with decorator metadata for Nest),
// and @app/<lib> imports resolve to the libs' sources.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': swc },
  // Nest 12 and a few of its dependencies ship ESM only: SWC turns them into CommonJS for Jest.
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|content-disposition|cookie|openid-client|oauth4webapi|jose)/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@app/migrations$': '<rootDir>/migrations',
    '^@app/testing$': '<rootDir>/test/support',
    '^@app/([a-z-]+)$': '<rootDir>/libs/$1/src',
  },
};
