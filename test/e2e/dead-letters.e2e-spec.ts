import { AuditLog, TenantTransaction, User } from '@app/database';
import { JobQueue, type InProcessJobQueue } from '@app/queue';
import { PlatformAdmins } from '@app/rbac';
import {
  bearer,
  createTestApp,
  FlakyJob,
  FlakyJobModule,
  FlakyJobState,
  registerAndLogin,
  type TestApp,
} from '@app/testing';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
interface Letter {
  id: string;
  name: string;
  queue: string;
  attemptsMade: number;
  error: string | null;
}

/** Jobs that fail every attempt land in the dead letters, where a platform admin retries or discards them. */
describe('dead letters (in-process driver)', () => {
  let t: TestApp;
  let admin: Account;
  let someone: Account;
  let queue: InProcessJobQueue;

  const call = (as: Account | undefined, method: 'GET' | 'POST' | 'DELETE', path: string) =>
    t.inject({ method, url: `/api/v1/admin/jobs${path}`, headers: as ? bearer(as.tokens.access_token) : {} });
  const failed = async () => (await call(admin, 'GET', '/failed')).json<{ items: Letter[]; total: number }>();

  beforeAll(async () => {
    t = await createTestApp({ modules: [FlakyJobModule] });
    queue = t.app.get<JobQueue, InProcessJobQueue>(JobQueue);
    admin = await registerAndLogin(t, 'jobs-admin');
    someone = await registerAndLogin(t, 'jobs-someone');
    await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.update(User, { id: admin.userId }, { isPlatformAdmin: true }));
    await t.app.get(PlatformAdmins).invalidate(admin.userId);
  });
  afterAll(async () => {
    await t.close();
  });

  it('keeps a job that failed every attempt, without its payload', async () => {
    FlakyJobState.failing = true;
    const id = await queue.enqueue(FlakyJob, { label: 'secret-link-123' });
    await queue.drain();
    expect(FlakyJobState.runs.filter((run) => run.id === id).map((run) => run.attempt)).toEqual([1, 2]);
    // In process there is no BullMQ job.
    expect(FlakyJobState.runs.filter((run) => run.id === id).map((run) => run.bullmq)).toEqual([null, null]);
    const page = await failed();
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({ id, name: 'test.flaky', queue: 'default', attemptsMade: 2 });
    expect(page.items[0]?.error).toContain('failed on purpose');
    expect(JSON.stringify(page)).not.toContain('"label"');
    expect((await call(admin, 'GET', `/${id}`)).json()).toMatchObject({ id });
  });

  it('runs it again on retry (once), and it leaves the list when it succeeds', async () => {
    const [letter] = (await failed()).items;
    FlakyJobState.failing = false;
    const res = await call(admin, 'POST', `/${letter?.id}/retry`);
    expect(res.statusCode).toBe(202);
    await queue.drain();
    const runs = FlakyJobState.runs.filter((run) => run.id === letter?.id);
    expect(runs).toHaveLength(3);
    expect(runs[2]).toMatchObject({ attempt: 1 });
    expect((await failed()).total).toBe(0);
    expect((await call(admin, 'POST', `/${letter?.id}/retry`)).statusCode).toBe(404);
  });

  it('discards one, audited', async () => {
    FlakyJobState.failing = true;
    const id = await queue.enqueue(FlakyJob, { label: 'to discard' });
    await queue.drain();
    expect((await call(admin, 'DELETE', `/${id}`)).statusCode).toBe(204);
    expect((await call(admin, 'DELETE', `/${id}`)).statusCode).toBe(404);
    expect((await call(admin, 'GET', `/${id}`)).statusCode).toBe(404);
    expect((await failed()).items.map((letter) => letter.id)).not.toContain(id);
    const rows = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { targetType: 'job' }, order: { chainSeq: 'ASC' } }));
    expect(rows.map((row) => [row.action, row.actorId])).toEqual([
      ['job.retry', admin.userId],
      ['job.discard', admin.userId],
    ]);
  });

  it('is for platform admins only, and refuses ids that are not job ids', async () => {
    expect((await call(undefined, 'GET', '/failed')).statusCode).toBe(401);
    expect((await call(someone, 'GET', '/failed')).statusCode).toBe(403);
    expect((await call(someone, 'POST', '/x/retry')).statusCode).toBe(403);
    expect((await call(someone, 'DELETE', '/x')).statusCode).toBe(403);
    expect((await call(admin, 'GET', `/${encodeURIComponent('a b;drop')}`)).statusCode).toBe(400);
    expect((await call(admin, 'GET', '/failed?pageSize=0')).statusCode).toBe(400);
  });
});
