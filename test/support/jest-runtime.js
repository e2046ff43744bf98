// Jest's runtime, with what a worker process can keep between test files without any file seeing
// another's modules.
//
// Jest gives every test file a fresh module registry, so each e2e file reads, transforms and
// compiles the whole graph it loads (about 3,400 modules: Nest, TypeORM, GraphQL, the api's own
// sources) again. This runtime keeps, per worker process:
//   - the transformed source of each module, keyed by its path, the transform options and the
//     file's size and modification time (a changed file is read and transformed again);
//   - the code V8 produced when compiling each module (its code cache), CommonJS and ECMAScript
//     modules alike (Nest 12 ships ECMAScript modules, which Jest loads as vm.SourceTextModule),
//     handed back only for the very same source text; V8 checks it and rejects what does not fit,
//     and a rejected entry is made again.
// Module evaluation is untouched: every file still gets fresh module instances and globals.
'use strict';

const { statSync } = require('node:fs');
const vm = require('node:vm');
const Runtime = require('jest-runtime').default;

/** How many modules this worker compiled, and how many of them from V8's cached data. */
const stats = { compiled: 0, fromCache: 0, transformed: 0, transformReused: 0 };

/** filename -> { source, data }: V8's cached data for the last source of that module compiled here. */
const codeCache = new Map();

function cachedDataFor(filename, source) {
  const cached = codeCache.get(filename);
  // Usually the very string the transform memo below handed out, so the comparison is immediate.
  return cached && cached.source === source ? cached.data : undefined;
}

/** Compiles a CommonJS module as Jest's ModuleExecutor.compile does, with the code cache. */
function compileWithCache(executor, jestCompile, scriptSource, filename) {
  const vmContext = executor.environment.getVmContext();
  if (vmContext == null || executor.resolution.isCoreModule(filename)) return jestCompile(scriptSource, filename);
  const cachedData = cachedDataFor(filename, scriptSource);
  let compiled;
  try {
    compiled = vm.compileFunction(scriptSource, executor.injectedModuleParameters, {
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
  else if (compiled.cachedDataProduced && compiled.cachedData) {
    codeCache.set(filename, { source: scriptSource, data: compiled.cachedData });
  }
  return compiled;
}

// ECMAScript modules: Jest constructs them as `new vm.SourceTextModule(code, { identifier, ... })`
// through node:vm's exports, so a proxy of that class there gives them the same cache. Patched once per worker.
const PATCHED = Symbol.for('saas.jest-runtime.source-text-module');
if (vm.SourceTextModule && !vm.SourceTextModule[PATCHED]) {
  const caching = new Proxy(vm.SourceTextModule, {
    construct(target, args, newTarget) {
      const [code, options = {}] = args;
      const identifier = typeof options.identifier === 'string' ? options.identifier : undefined;
      const cachedData = identifier ? cachedDataFor(identifier, code) : undefined;
      let module;
      if (cachedData) {
        try {
          module = Reflect.construct(target, [code, { ...options, cachedData }], newTarget);
          stats.fromCache += 1;
        } catch {
          codeCache.delete(identifier);
        }
      }
      if (!module) {
        module = Reflect.construct(target, args, newTarget);
        if (identifier) codeCache.set(identifier, { source: code, data: module.createCachedData() });
      }
      stats.compiled += 1;
      return module;
    },
  });
  caching[PATCHED] = true;
  vm.SourceTextModule = caching;
}

/** `${project}\0${filename}\0${options}` -> { mtimeMs, size, code, file }. */
const transformed = new Map();

/** TransformCache.transform (read the file, run the project's transform), remembered per worker. */
function transformWithMemo(transformCache, jestTransform, project, filename, options) {
  let stat;
  try {
    stat = statSync(filename);
  } catch {
    return jestTransform(filename, options);
  }
  const key = `${project}\0${filename}\0${JSON.stringify(options ?? null)}`;
  const hit = transformed.get(key);
  if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) {
    stats.transformReused += 1;
    // What Jest's own transform records beside the code: source maps for stack traces, coverage.
    if (hit.file) {
      transformCache.transforms.set(filename, hit.file);
      if (hit.file.sourceMapPath) transformCache.sourceMaps.set(filename, hit.file.sourceMapPath);
    }
    return hit.code;
  }
  const code = jestTransform(filename, options);
  stats.transformed += 1;
  const file = options?.isInternalModule ? undefined : transformCache.transforms.get(filename);
  transformed.set(key, { mtimeMs: stat.mtimeMs, size: stat.size, code, file });
  return code;
}

class CachingRuntime extends Runtime {
  constructor(config, ...rest) {
    super(config, ...rest);
    // Jest 30 keeps these in helpers the runtime makes; if a later Jest moves them, modules load
    // as before, without the caches.
    const executor = this.executor;
    if (executor && typeof executor.compile === 'function' && executor.injectedModuleParameters) {
      const jestCompile = executor.compile.bind(executor);
      executor.compile = (scriptSource, filename) => compileWithCache(executor, jestCompile, scriptSource, filename);
    }
    const transformCache = this.transformCache;
    if (transformCache && typeof transformCache.transform === 'function' && transformCache.transforms) {
      const jestTransform = transformCache.transform.bind(transformCache);
      transformCache.transform = (filename, options) =>
        transformWithMemo(transformCache, jestTransform, config.id, filename, options);
    }
    // The ECMAScript-only packages the config has SWC transform (Nest 12 among them) run as the
    // CommonJS SWC makes of them, not as vm.SourceTextModules: Node keeps every SourceTextModule a
    // test file made (and through it the file's whole module graph) alive for the rest of the
    // process, so a worker grew by about 55 MB a file. Anything else keeps Jest's own choice.
    const resolution = this._resolution;
    const transformer = this.transformCache?.scriptTransformer;
    if (
      resolution &&
      typeof resolution.shouldLoadAsEsm === 'function' &&
      transformer &&
      typeof transformer.shouldTransform === 'function'
    ) {
      const jestChoice = resolution.shouldLoadAsEsm.bind(resolution);
      resolution.shouldLoadAsEsm = (modulePath) =>
        jestChoice(modulePath) && !(isTransformedDependency(modulePath) && transformer.shouldTransform(modulePath));
    }
  }
}

function isTransformedDependency(modulePath) {
  return modulePath.includes('/node_modules/') && /\.js$/.test(modulePath);
}

CachingRuntime.cacheStats = stats;
module.exports = CachingRuntime;
