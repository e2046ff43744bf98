// ESLint flat config: type-aware rules for promise safety and type-only imports,
// and a ban on reaching into another lib or app through relative paths (use @app/<lib>).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { readdirSync } from 'node:fs';

/** Reaching into another lib or app by a relative path: only @app/<lib>. */
const THROUGH_PUBLIC_SURFACE = {
  group: ['**/libs/*', '**/libs/**', '../../*/src/**'],
  message: 'Import another lib through its public surface: @app/<lib>.',
};
/** The same, for relative paths of any depth ('../../database/src', '../../../auth/src/x'). */
const INTO_ANOTHER_SRC = {
  regex: '^(\\.\\./)+[a-z-]+/src(/|$)',
  message: 'Import another lib through its public surface: @app/<lib>.',
};
/** Lib code reaches migrations and test helpers through @app/migrations and @app/testing only. */
const LIB_RELATIVE_OUTSIDE = {
  regex: '^(\\.\\./)+(migrations|test)(/|$)',
  message: 'From a lib, use @app/migrations (database only); test helpers never belong in lib code.',
};

/**
 * The libs' import graph (docs/architecture.md): each lib and the libs it may import. A lib below
 * never imports one above it, no lib imports an app, and the worker never imports the api.
 */
const LIB_IMPORTS = {
  config: [],
  telemetry: [],
  sso: [],
  common: ['telemetry'],
  mail: ['config'],
  database: ['common', 'config', 'migrations'],
  audit: ['common', 'config', 'database'],
  queue: ['common', 'config', 'database', 'telemetry'],
  llm: ['common', 'config', 'database'],
  auth: ['common', 'config', 'database', 'queue'],
  rbac: ['audit', 'auth', 'common', 'config', 'database', 'queue'],
  jobs: ['audit', 'auth', 'common', 'config', 'database', 'llm', 'mail', 'queue', 'telemetry'],
  events: ['audit', 'auth', 'common', 'config', 'database', 'jobs', 'queue', 'rbac', 'telemetry'],
};
const unlisted = readdirSync(new URL('./libs', import.meta.url)).filter((lib) => !(lib in LIB_IMPORTS));
if (unlisted.length > 0) throw new Error(`eslint.config.mjs: add ${unlisted.join(', ')} to LIB_IMPORTS`);
const NO_APPS = { group: ['**/apps/**', '@app/api', '@app/worker'], message: 'A lib never imports an app.' };
const layerRules = Object.entries(LIB_IMPORTS).map(([lib, allowed]) => ({
  files: [`libs/${lib}/**/*.ts`],
  ignores: ['**/*.spec.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          THROUGH_PUBLIC_SURFACE,
          INTO_ANOTHER_SRC,
          LIB_RELATIVE_OUTSIDE,
          NO_APPS,
          {
            group: [...Object.keys(LIB_IMPORTS), 'migrations', 'testing']
              .filter((other) => other !== lib && !allowed.includes(other))
              .map((other) => `@app/${other}`),
            message: `libs/${lib} may import only ${allowed.map((other) => `@app/${other}`).join(', ') || 'no other lib'} (see docs/architecture.md).`,
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**', 'bench/results*', 'bench/partial/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-restricted-imports': ['error', { patterns: [THROUGH_PUBLIC_SURFACE, INTO_ANOTHER_SRC] }],
    },
  },
  ...layerRules,
  {
    files: ['apps/worker/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            THROUGH_PUBLIC_SURFACE,
            INTO_ANOTHER_SRC,
            {
              group: ['**/apps/api', '**/apps/api/**', '../../api', '../../api/**', '@app/api'],
              message: 'The worker never imports the api: move shared code into a lib.',
            },
          ],
        },
      ],
    },
  },
  {
    // The queue packages load on first use (libs/queue/src/lazy-packages.ts): the embedded default
    // never needs them. The framework's own code takes their types only.
    files: ['libs/**/*.ts'],
    ignores: ['libs/queue/src/lazy-packages.ts', '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        ...['bullmq', '@nestjs/bullmq', 'ioredis'].map((name) => ({
          name,
          allowTypeImports: true,
          message: `Load ${name} through libs/queue/src/lazy-packages.ts; import its types with \`import type\`.`,
        })),
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      parserOptions: { projectService: false, program: null, project: false },
      sourceType: 'commonjs',
      globals: { ...globals.node },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module' },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
);
