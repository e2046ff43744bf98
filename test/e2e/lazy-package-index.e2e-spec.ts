import { join } from 'node:path';

/**
 * The stand-in that jest.shared.js maps es-toolkit's indexes to (test/support/lazy-package-index.js)
 * must be the package as far as any importer can tell: the same export names, each the very same
 * function the real index exports.
 */
describe('lazily loaded package indexes under Jest', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const support = require('../support/lazy-package-index') as {
    readIndex: (path: string) => Map<string, [string, string]> | undefined;
    realIndexOf: (specifier: string) => string;
  };

  it.each(['es-toolkit', 'es-toolkit/compat'])(
    '%s: the same names and the very same exports as the real index',
    (specifier) => {
      /* eslint-disable @typescript-eslint/no-require-imports -- the point is what require returns */
      const stand_in = require(specifier) as Record<string, unknown>;
      const real = require(support.realIndexOf(specifier)) as Record<string, unknown>;
      /* eslint-enable @typescript-eslint/no-require-imports */
      expect(stand_in).not.toBe(real);
      expect(Object.keys(stand_in).sort()).toEqual(Object.keys(real).sort());
      expect(Object.keys(real).length).toBeGreaterThan(150);
      for (const name of Object.keys(real)) expect([name, stand_in[name]]).toEqual([name, real[name]]);
      expect(stand_in.__esModule).toBe(real.__esModule);
    },
  );

  it('parses only an index of the shape it knows', () => {
    // An index of another shape (this file, say) is not parsed into getters.
    expect(support.readIndex(__filename)).toBeUndefined();
    expect(support.realIndexOf('es-toolkit/compat')).toBe(
      join(__dirname, '../../node_modules/es-toolkit/dist/compat/index.js'),
    );
    const compat = support.readIndex(support.realIndexOf('es-toolkit/compat'));
    expect(compat?.get('isString')?.[0]).toMatch(/es-toolkit\/dist\/compat\/predicate\/isString\.js$/);
  });
});
