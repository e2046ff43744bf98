// Jest's node environment, with one thing added: every test file run by a worker process gets
// the same process-shared object (see libs/common/src/process-shared.ts). Jest gives each file a
// new global object; without this, what a process keeps between its Nest applications (the
// password checker's idle thread) would be made again by every file.
'use strict';

const { TestEnvironment } = require('jest-environment-node');

const KEY = Symbol.for('saas.process-shared');
const shared = {};

class SharedProcessEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global[KEY] = shared;
  }
}

module.exports = SharedProcessEnvironment;
