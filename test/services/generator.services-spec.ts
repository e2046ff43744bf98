import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SERVICES_ENV } from '../support/services-env';

const ROOT = join(__dirname, '..', '..');

/** Runs a command in the scratch project, with the embedded default (no database or Redis URL). */
function run(cwd: string, args: string[]): { code: number; output: string } {
  const env = { ...process.env };
  // Not this run's shared template database: the scratch project migrates its own embedded one.
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'JEST_WORKER_ID', 'NODE_OPTIONS', ...Object.values(SERVICES_ENV)]) {
    delete env[name];
  }
  const result = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', timeout: 400_000 });
  return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix)).flatMap((entry) => {
    const path = join(prefix, entry);
    if (path === 'node_modules') return [];
    return statSync(join(dir, path)).isDirectory() ? listFiles(dir, path) : [path];
  });
}

/**
 * `npm run generate:resource` in a scratch copy of this project: the resource it writes compiles,
 * passes lint, and its e2e test and the framework's matrices pass with no edit by hand.
 */
describe('resource generator', () => {
  let scratch: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'generate-resource-'));
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((file) => file && statSync(join(ROOT, file), { throwIfNoEntry: false })?.isFile());
    for (const file of files) {
      mkdirSync(dirname(join(scratch, file)), { recursive: true });
      copyFileSync(join(ROOT, file), join(scratch, file));
    }
    symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  });
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const generate = (...args: string[]) => run(scratch, ['scripts/generate-resource.js', ...args]);

  it('refuses bad names, and names that exist, writing nothing', () => {
    const before = listFiles(scratch).sort();
    for (const args of [[], ['Invoices'], ['in voices'], ['../etc'], ['teams'], ['projects'], ['data', '--oops']]) {
      const result = generate(...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.output).toMatch(/generate:resource: /);
    }
    expect(generate('data').output).toContain('pass --singular');
    expect(listFiles(scratch).sort()).toEqual(before);
  });

  it('generates a resource whose e2e test, matrices, lint and types pass without an edit', () => {
    const generated = generate('purchase-orders');
    expect(generated).toEqual({ code: 0, output: expect.stringContaining('Created purchase orders') as string });
    expect(listFiles(scratch)).toEqual(
      expect.arrayContaining([
        'apps/api/src/purchase-orders/purchase-orders.controller.ts',
        'libs/database/src/entities/purchase-order.entity.ts',
        'test/e2e/purchase-orders.e2e-spec.ts',
      ]),
    );
    // Running it again for the same name refuses.
    expect(generate('purchase-orders').code).toBe(2);

    const typecheck = run(scratch, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']);
    expect(typecheck).toEqual({ code: 0, output: '' });
    const lint = run(scratch, [
      'node_modules/eslint/bin/eslint.js',
      '--max-warnings',
      '0',
      'apps/api/src/purchase-orders',
      'libs/database/src/entities',
      'migrations',
      'test/e2e/purchase-orders.e2e-spec.ts',
      'test/support/resource-fixtures.ts',
    ]);
    expect(lint).toEqual({ code: 0, output: '' });
    const tests = run(scratch, [
      '--experimental-vm-modules',
      'node_modules/jest/bin/jest.js',
      '--config',
      'jest.config.js',
      '--ci',
      '--verbose',
      'test/e2e/purchase-orders',
      'test/e2e/authorization-matrix',
      'test/e2e/route-inventory',
      'test/e2e/migrations',
      'test/e2e/row-level-security',
    ]);
    expect(tests.output).toMatch(/Tests:\s+\d+ passed, \d+ total/);
    expect(tests.output).toContain('purchase orders');
    expect(tests.code).toBe(0);
  }, 900_000);
});
