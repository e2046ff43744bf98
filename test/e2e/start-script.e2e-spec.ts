import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain Node script, as npm start runs it
const script = require('../../scripts/build-api-if-stale.js') as {
  sourcesStamp: (root: string) => string;
  buildIsCurrent: (root: string, stamp: string) => boolean;
  MAIN: string;
  STAMP: string;
};

/** npm start compiles the api only when a source differs from the build's (scripts/build-api-if-stale.js). */
describe('npm start: the api is compiled again only when its sources changed', () => {
  let root: string;
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'start-script-'));
    write('apps/api/src/main.ts', 'export {};');
    write('libs/common/src/index.ts', 'export const a = 1;');
    write('migrations/1-init.ts', 'export {};');
    for (const file of ['tsconfig.json', 'apps/api/tsconfig.app.json', 'nest-cli.json', 'package-lock.json']) {
      write(file, '{}');
    }
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const built = () => {
    const stamp = script.sourcesStamp(root);
    write(script.MAIN, '');
    write(script.STAMP, stamp);
  };
  const current = () => script.buildIsCurrent(root, script.sourcesStamp(root));

  it('is current after a build of the same sources, and not without one', () => {
    expect(current()).toBe(false);
    built();
    expect(current()).toBe(true);
    rmSync(join(root, script.MAIN));
    expect(current()).toBe(false);
  });

  it('is stale after an edit, a new file, a deleted file or a changed setting', () => {
    const cases: Array<() => void> = [
      () => write('libs/common/src/index.ts', 'export const a = 22;'),
      () => {
        const later = new Date(Date.now() + 5_000);
        utimesSync(join(root, 'apps/api/src/main.ts'), later, later);
      },
      () => write('libs/common/src/other.ts', 'export {};'),
      () => write('libs/common/src/data.json', '{"a":1}'),
      () => rmSync(join(root, 'migrations/1-init.ts')),
      () => write('package-lock.json', '{"lockfileVersion":3}'),
    ];
    for (const change of cases) {
      built();
      expect(current()).toBe(true);
      change();
      expect(current()).toBe(false);
    }
  });

  it('ignores test files beside the sources', () => {
    built();
    write('libs/common/src/index.spec.ts', 'it("x", () => undefined);');
    expect(current()).toBe(true);
  });
});
