// A team's own worker entry, as a team would write it beside the framework: a plain
// @nestjs/bullmq processor (`@Processor('reports') class … extends WorkerHost`) in a module of its
// own, handed to the framework's worker bootstrap. Plain CommonJS over the built worker (decorators
// applied as calls), so test:services runs it as a real process. TEAM_QUEUE picks the queue.
'use strict';
const { join } = require('node:path');
const { Module } = require('@nestjs/common');
const { Processor, WorkerHost } = require('@nestjs/bullmq');

const DIST = join(__dirname, '..', '..', 'dist', 'apps', 'worker');
const { createWorker } = require(join(DIST, 'apps', 'worker', 'src', 'bootstrap.js'));
const { loadConfig } = require(join(DIST, 'libs', 'config', 'src', 'index.js'));

class ReportsProcessor extends WorkerHost {
  async process(job) {
    await job.updateProgress(50);
    await job.log(`summing ${job.data.values.length} values`);
    if (job.data.fail) throw new Error('the report cannot be built');
    return { total: job.data.values.reduce((sum, value) => sum + value, 0), pid: process.pid };
  }
}
Processor(process.env.TEAM_QUEUE || 'reports')(ReportsProcessor);

class ReportsModule {}
Module({ providers: [ReportsProcessor] })(ReportsModule);

createWorker(loadConfig(), undefined, [ReportsModule]).then(
  ({ app, queues }) => {
    process.stdout.write(`team worker ready: ${queues.join(',')}\n`);
    process.on('SIGTERM', () => {
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  },
  (error) => {
    process.stderr.write(`team worker failed to start: ${error.message}\n`);
    process.exit(1);
  },
);
