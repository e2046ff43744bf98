import { REQUEST_IP_KEY } from '@app/audit';
import { PRINCIPAL_KEY } from '@app/auth';
import { IMPERSONATOR_KEY } from '@app/common';
import { defineJob, JobProcessor, JobQueue, type JobContext, type JobHandler } from '@app/queue';
import { TENANT_KEY } from '@app/rbac';
import { createTestApp, type TestApp } from '@app/testing';
import { Injectable, Module } from '@nestjs/common';
import { CLS_ID, ClsService } from 'nestjs-cls';

const ProbeJob = defineJob<{ label: string }>('test.context-probe', { attempts: 1 });
const seen: Array<Record<string, unknown>> = [];

/** Records what a job finds in its request context. */
@Injectable()
@JobProcessor(ProbeJob)
class ContextProbe implements JobHandler<{ label: string }> {
  constructor(private readonly cls: ClsService) {}

  handle(payload: { label: string }, context: JobContext): Promise<void> {
    seen.push({
      label: payload.label,
      requestId: this.cls.getId(),
      jobId: context.id,
      principal: this.cls.get(PRINCIPAL_KEY),
      tenant: this.cls.get(TENANT_KEY),
      impersonator: this.cls.get(IMPERSONATOR_KEY),
      ip: this.cls.get(REQUEST_IP_KEY),
    });
    return Promise.resolve();
  }
}

@Module({ providers: [ContextProbe] })
class ContextProbeModule {}

/** A job runs in a context of its own, on the embedded driver as on the worker. */
describe('job context (in-process driver)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ modules: [ContextProbeModule] });
  });
  afterAll(async () => {
    await t.close();
  });

  it("does not inherit the enqueuing request's caller, tenant, impersonator or address", async () => {
    const cls = t.app.get(ClsService);
    const request = {
      [CLS_ID]: 'request-1',
      [PRINCIPAL_KEY]: { kind: 'user', userId: 'someone' },
      [TENANT_KEY]: '01a244ee-1343-77e8-a016-aee0be7ef175',
      [IMPERSONATOR_KEY]: 'an-admin',
      [REQUEST_IP_KEY]: '203.0.113.9',
    };
    const id = await cls.runWith(request, () => t.app.get(JobQueue).enqueue(ProbeJob, { label: 'probe' }));
    for (let waited = 0; seen.length === 0 && waited < 5_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(seen).toEqual([
      {
        label: 'probe',
        requestId: id,
        jobId: id,
        principal: undefined,
        tenant: undefined,
        impersonator: undefined,
        ip: undefined,
      },
    ]);
  });
});
