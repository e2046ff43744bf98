// Under Jest only (moduleNameMapper in jest.shared.js): a package's CommonJS index whose every
// export is loaded from its own file on first use, instead of all of them when the index loads.
//
// es-toolkit's indexes require each of their functions up front: `es-toolkit/compat` about 300,
// `es-toolkit` about 200, some 560 modules in all. Nest's GraphQL and Swagger packages use ten of
// them, but Jest gives every test file a fresh module registry, so every e2e file loaded and ran
// all 560 again (about 145 ms of CPU a file, measured). Node itself loads a module once per
// process, so the built api is left as it is.
//
// The index is read as text: `const require_x = require("./dir/x.js");` binds a module and
// `exports.name = require_x.prop;` exports one of its properties. Each export becomes a getter that
// requires that one module (through Jest, so a file sees the same instances as everything else it
// loads). Anything the parser does not recognise makes it hand back the real index instead; the
// unit test beside it checks that both expose the same names and the very same functions.
'use strict';

const { readFileSync } = require('node:fs');
const { dirname, resolve } = require('node:path');

const BINDING = /^const (\w+) = require\("(\.{1,2}\/[^"]+)"\);$/;
const EXPORT = /^exports\.(\w+) = (\w+)\.(\w+);$/;
// Lines that carry no export: the module's tags and side-effect-free requires of sub-indexes.
const IGNORED = [
  /^Object\.definePropert(y|ies)\(exports,/,
  /^\s*(__esModule|\[Symbol\.toStringTag\]):/,
  /^\}\);$/,
  /^require\("\.{1,2}\/[^"]+"\);$/,
  /^$/,
];

/**
 * name -> [absolute module path, property], or undefined when the index has another shape; `esModule`
 * on the map says whether the index marks itself an ES module (es-toolkit/compat does, es-toolkit not).
 */
function readIndex(indexPath) {
  const bindings = new Map();
  const exported = new Map();
  const text = readFileSync(indexPath, 'utf8');
  exported.esModule = /^\s*__esModule: \{ value: true \}/m.test(text);
  for (const line of text.split('\n')) {
    const binding = BINDING.exec(line);
    if (binding) {
      bindings.set(binding[1], resolve(dirname(indexPath), binding[2]));
      continue;
    }
    const entry = EXPORT.exec(line);
    if (entry && bindings.has(entry[2])) {
      exported.set(entry[1], [bindings.get(entry[2]), entry[3]]);
      continue;
    }
    if (!IGNORED.some((pattern) => pattern.test(line))) return undefined;
  }
  return exported.size > 0 ? exported : undefined;
}

/**
 * Where Node resolves `specifier` for require. Worked out in jest.shared.js and handed over as a
 * Jest global: in here every resolution (require.resolve, createRequire) goes through the mapper.
 */
function realIndexOf(specifier) {
  const path = globalThis.__lazyPackageIndexes?.[specifier];
  if (typeof path !== 'string')
    throw new Error(`jest.shared.js does not list ${specifier} in globals.__lazyPackageIndexes`);
  return path;
}

/** The exports of `specifier` (resolved as Node resolves it for require), loaded one by one. */
function lazyPackageIndex(specifier, load) {
  const indexPath = realIndexOf(specifier);
  const exported = readIndex(indexPath);
  if (!exported) return load(indexPath);
  const target = {};
  if (exported.esModule) Object.defineProperty(target, '__esModule', { value: true });
  for (const [name, [file, property]] of exported) {
    Object.defineProperty(target, name, {
      enumerable: true,
      configurable: true,
      get() {
        const value = load(file)[property];
        Object.defineProperty(target, name, { value, enumerable: true, configurable: false, writable: false });
        return value;
      },
    });
  }
  Object.defineProperty(target, Symbol.toStringTag, { value: 'Module' });
  return target;
}

module.exports = { lazyPackageIndex, readIndex, realIndexOf };
