import { definedJobs, ProcessorRegistry } from '@app/queue';
import { createTestApp, type TestApp } from '@app/testing';

/** Processors are found by their decorator; this keeps a job from being defined with nobody to run it. */
describe('job registry', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('has a processor for every job the framework defines, on the queue the job names', () => {
    const registry = t.app.get(ProcessorRegistry);
    const jobs = definedJobs().filter((job) => !job.name.startsWith('test.'));
    expect(jobs.map((job) => job.name)).toEqual(
      expect.arrayContaining(['mail.send', 'audit.retention', 'llm.chat', 'dependencies.check']),
    );
    for (const job of jobs)
      expect({ job: job.name, found: registry.get(job.name)?.definition }).toEqual({
        job: job.name,
        found: job,
      });
    expect(registry.queues().sort()).toEqual(['default', 'llm', 'webhooks']);
  });
});
