// Jest's runtime with a V8 code cache for the CommonJS modules it compiles.
//
// Jest gives every test file a fresh module registry, so each file compiles the whole graph it
// loads (Nest, TypeORM, GraphQL, the api's own sources) from source again: about 0.6 s of CPU per
// e2e file, most of it V8 parsing the same text as the file before. This runtime keeps the code
// V8 produced for each module source (keyed by file name and a hash of the exact source Jest
// hands to V8) in the worker process, and gives it back on the next compile of the same source.
// V8 checks the data against the source and its own flags and rejects what does not match; a
// rejected entry is dropped and made again. Module evaluation is untouched: every file still gets
// fresh module instances, so nothing a test sees is shared between files.
'use strict';

const { createHash } = require('node:crypto');
const { compileFunction } = require('node:vm');
const Runtime = require('jest-runtime').default;

/** filename -> { hash, data } for the last source of that file this worker compiled. */
const codeCache = new Map();

const hashOf = (source) => createHash('sha1').update(source).digest('base64');

/**
 * Compiles a module's source as Jest's own ModuleExecutor.compile does, with V8's cached data for
 * that exact source when this worker has it, and keeps what V8 produces otherwise.
 */
function compileWithCache(executor, jestCompile, scriptSource, filename) {
  const vmContext = executor.environment.getVmContext();
  if (vmContext == null || executor.resolution.isCoreModule(filename)) return jestCompile(scriptSource, filename);
  const hash = hashOf(scriptSource);
  const cached = codeCache.get(filename);
  const cachedData = cached && cached.hash === hash ? cached.data : undefined;
  let compiled;
  try {
    compiled = compileFunction(scriptSource, executor.injectedModuleParameters, {
      filename,
      cachedData,
      produceCachedData: cachedData === undefined,
      importModuleDynamically: (specifier, _fn, importAttributes, phase) =>
        executor.dynamicImport(specifier, filename, vmContext, importAttributes, phase),
      parsingContext: vmContext,
    });
  } catch {
    // Jest's own compile reports a syntax error the way its users expect.
    return jestCompile(scriptSource, filename);
  }
  stats.compiled += 1;
  if (cachedData !== undefined && !compiled.cachedDataRejected) stats.fromCache += 1;
  if (compiled.cachedDataRejected) codeCache.delete(filename);
  else if (compiled.cachedDataProduced && compiled.cachedData)
    codeCache.set(filename, { hash, data: compiled.cachedData });
  return compiled;
}

/** How many modules this worker compiled, and how many of them from cached data (for its test). */
const stats = { compiled: 0, fromCache: 0 };

class CodeCachingRuntime extends Runtime {
  constructor(...args) {
    super(...args);
    // Jest 30 compiles CommonJS modules in a ModuleExecutor the runtime makes; if a later Jest
    // moves that, modules compile as before, without the cache.
    const executor = this.executor;
    if (executor && typeof executor.compile === 'function' && executor.injectedModuleParameters) {
      const jestCompile = executor.compile.bind(executor);
      executor.compile = (scriptSource, filename) => compileWithCache(executor, jestCompile, scriptSource, filename);
    }
  }
}

CodeCachingRuntime.codeCacheStats = stats;
module.exports = CodeCachingRuntime;
