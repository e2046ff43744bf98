import { bearer, createTestApp, markEmailVerified, registerAndLogin, startProcess, type TestApp } from '@app/testing';

/** The operator's ways to make platform admins: the CLI (a real process) and BOOTSTRAP_ADMIN_EMAIL at start-up. */
describe('platform admin from the command line and at start-up', () => {
  let a: TestApp;
  let b: TestApp | undefined;

  beforeAll(async () => {
    a = await createTestApp({ redis: true });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const cli = async (...args: string[]) => {
    const run = startProcess(
      'cli',
      { ...a.database.env, REDIS_URL: a.config.redisUrl, QUEUE_PREFIX: a.config.queuePrefix },
      args,
    );
    const code = await run.exited;
    return { code, output: run.output() };
  };
  const listUsers = (app: TestApp, token: string) =>
    app.inject({ method: 'GET', url: '/api/v1/users', headers: bearer(token) });

  it('grants with admin:grant, effective at once on a running api that had cached the answer', async () => {
    const ops = await registerAndLogin(a, 'cli-ops');
    expect((await listUsers(a, ops.tokens.access_token)).statusCode).toBe(403);
    const granted = await cli('admin:grant', ops.email.toUpperCase());
    expect(granted).toEqual({ code: 0, output: expect.stringContaining('now a platform admin') as string });
    expect((await listUsers(a, ops.tokens.access_token)).statusCode).toBe(200);

    const last = await cli('admin:revoke', ops.email);
    expect(last.code).toBe(1);
    expect(last.output).toContain('at least one platform admin');
    const unknown = await cli('admin:grant', 'nobody@example.test');
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain('No user with the email nobody@example.test');
    const usage = await cli('admin:promote');
    expect(usage.code).toBe(2);
    expect(usage.output).toContain('Usage: npm run cli');
  });

  it('grants BOOTSTRAP_ADMIN_EMAIL at start-up when that account exists and is verified', async () => {
    const boot = await registerAndLogin(a, 'boot');
    await markEmailVerified(a, boot.userId);
    b = await createTestApp({ redis: true, replicaOf: a, env: { BOOTSTRAP_ADMIN_EMAIL: boot.email } });
    expect((await listUsers(b, boot.tokens.access_token)).statusCode).toBe(200);
  });
});
