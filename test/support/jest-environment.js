// Jest's node environment, with two things added.
//
// 1. Every test file run by a worker process gets the same process-shared object (see
//    libs/common/src/process-shared.ts). Jest gives each file a new global object; without this,
//    what a process keeps between its Nest applications (the password checker's idle thread, the
//    process metrics) would be made again by every file.
// 2. At teardown, what Jest and the file put on the file's global object is taken off again. V8
//    keeps a finished file's vm context alive (an instantiation cache of one of Node's templates
//    holds on to it), and through the global object that context kept the file's test tree, its
//    hooks' closures and so the whole application the file booted: a worker grew by about 55 MB
//    a file, and everything ran slower as its heap grew. The builtins stay: a callback the file
//    left behind (a stream finishing, a timer) may still run after it and use them.
'use strict';

const { TestEnvironment } = require('jest-environment-node');

const KEY = Symbol.for('saas.process-shared');
const shared = {};
const BUILTINS = new Set(Object.getOwnPropertyNames(globalThis));

class SharedProcessEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global[KEY] = shared;
  }

  async teardown() {
    const sandbox = this.global;
    await super.teardown();
    if (!sandbox) return;
    for (const key of Reflect.ownKeys(sandbox)) {
      if (typeof key === 'string' && BUILTINS.has(key)) continue;
      try {
        Reflect.deleteProperty(sandbox, key);
      } catch {
        // A property that will not go keeps what it holds; the rest still goes.
      }
    }
  }
}

module.exports = SharedProcessEnvironment;
