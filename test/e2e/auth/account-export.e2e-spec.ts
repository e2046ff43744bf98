import { AccountExport, TenantTransaction } from '@app/database';
import { ACCOUNT_EXPORT_FORMAT, AccountExportProcessor, ORGANIZATION_EXPORT_FORMAT } from '@app/jobs';
import { SYSTEM_ROLES } from '@app/rbac';
import {
  bearer,
  createTestApp,
  joinByInvitation,
  registerAndLogin,
  startSmtpSink,
  tokenFromMail,
  type SmtpSink,
  type TestApp,
  type Tokens,
} from '@app/testing';

interface Archive {
  format: string;
  profile: { id: string; email: string };
  memberships: Array<{ organizationId: string; roles: string[] }>;
  sessions: unknown[];
  apiKeys: Array<Record<string, unknown>>;
  auditLog: Array<{ action: string }>;
}

describe('Exporting your own data', () => {
  let t: TestApp;
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'Framework <robot@example.test>' } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const call = (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    t.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
  const download = (token: string) =>
    t.inject({ method: 'POST', url: '/api/v1/users/me/export/download', payload: { token } });

  async function waitForStatus(tokens: Tokens, id: string, status: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 100; i += 1) {
      const res = await call(tokens.access_token, 'GET', `/users/me/exports/${id}`);
      const body = res.json<Record<string, unknown>>();
      if (body.status === status) return body;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`export ${id} never became ${status}`);
  }

  it('builds the archive in a job, mails a single-use link, and drops the copy once downloaded', async () => {
    const ann = await registerAndLogin(t, 'export-ann');
    const org = (await call(ann.tokens.access_token, 'POST', '/organizations', { name: 'Exported' })).json<{
      id: string;
    }>().id;
    const key = await call(ann.tokens.access_token, 'POST', `/organizations/${org}/api-keys`, {
      name: 'robot',
      permissions: ['teams:read'],
    });
    const secret = key.json<{ key: string }>().key;
    const mailsBefore = smtp.messages.length;

    const requested = await call(ann.tokens.access_token, 'POST', '/users/me/export');
    expect(requested.statusCode).toBe(202);
    const { id } = requested.json<{ id: string; status: string }>();
    const token = await tokenFromMail(smtp, ann.email, /data export/, mailsBefore);
    expect(token).toMatch(/^exp_/);
    expect(await waitForStatus(ann.tokens, id, 'ready')).toMatchObject({ id, status: 'ready' });
    const [stored] = await t.dataSource.query<Array<{ token_hash: string; archive: string }>>(
      'SELECT token_hash, archive FROM account_exports WHERE id = $1',
      [id],
    );
    expect(stored?.token_hash).not.toContain(token.slice(4, 20));

    const res = await download(token);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="account-export-\d{4}-\d{2}-\d{2}\.json"$/,
    );
    expect(res.headers['cache-control']).toBe('no-store');
    const archive = res.json<Archive>();
    expect(archive).toMatchObject({ format: ACCOUNT_EXPORT_FORMAT, profile: { id: ann.userId, email: ann.email } });
    expect(archive.memberships).toEqual([expect.objectContaining({ organizationId: org, roles: ['owner'] })]);
    expect(archive.sessions.length).toBeGreaterThan(0);
    expect(archive.apiKeys).toEqual([expect.objectContaining({ name: 'robot' })]);
    expect(archive.auditLog.map((row) => row.action)).toEqual(
      expect.arrayContaining(['auth.register', 'auth.login', 'user.export.request']),
    );
    // Nothing secret travels in it.
    const text = res.body;
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/password_hash|passwordHash|key_hash|totp/i);

    expect((await download(token)).statusCode).toBe(410);
    expect(await waitForStatus(ann.tokens, id, 'downloaded')).toMatchObject({ status: 'downloaded' });
    const [dropped] = await t.dataSource.query<Array<{ archive: string | null }>>(
      'SELECT archive FROM account_exports WHERE id = $1',
      [id],
    );
    expect(dropped?.archive).toBeNull();
  });

  it('keeps exports to their owner, and refuses unknown, malformed and expired links', async () => {
    const bob = await registerAndLogin(t, 'export-bob');
    const carol = await registerAndLogin(t, 'export-carol');
    // One at a time: while one waits to be built, asking again answers that one.
    const waiting = await t.app.get(TenantTransaction).runAsSystem(async (manager) => {
      const row = manager.create(AccountExport, { userId: carol.userId, status: 'pending' });
      await manager.insert(AccountExport, row);
      return row.id;
    });
    const asked = await call(carol.tokens.access_token, 'POST', '/users/me/export');
    expect(asked.json()).toMatchObject({ id: waiting, status: 'pending' });
    const mailsBefore = smtp.messages.length;
    const { id } = (await call(bob.tokens.access_token, 'POST', '/users/me/export')).json<{ id: string }>();
    expect((await call(carol.tokens.access_token, 'GET', `/users/me/exports/${id}`)).statusCode).toBe(404);
    const token = await tokenFromMail(smtp, bob.email, /data export/, mailsBefore);
    expect((await download('exp_' + 'x'.repeat(43))).statusCode).toBe(410);
    const malformed = await download('not-a-token');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ errors: [{ field: 'token' }] });
    await t.dataSource.query(`UPDATE account_exports SET expires_at = now() - interval '1 minute' WHERE id = $1`, [id]);
    expect((await download(token)).statusCode).toBe(410);
    expect(await waitForStatus(bob.tokens, id, 'expired')).toMatchObject({ status: 'expired' });
    const [row] = await t.dataSource.query<Array<{ archive: string | null }>>(
      'SELECT archive FROM account_exports WHERE id = $1',
      [id],
    );
    expect(row?.archive).toBeNull();
  });

  it('exports an organization for an owner, mailed to them, downloadable only while they are still an owner', async () => {
    const owner = await registerAndLogin(t, 'orgexp-owner');
    const coOwner = await registerAndLogin(t, 'orgexp-coowner');
    const admin = await registerAndLogin(t, 'orgexp-admin');
    const org = (await call(owner.tokens.access_token, 'POST', '/organizations', { name: 'Exported Org' })).json<{
      id: string;
    }>().id;
    await joinByInvitation(t, owner, org, admin, [SYSTEM_ROLES.admin.id]);
    await joinByInvitation(t, owner, org, coOwner, [SYSTEM_ROLES.owner.id]);
    const key = await call(owner.tokens.access_token, 'POST', `/organizations/${org}/api-keys`, {
      name: 'robot',
      permissions: ['teams:read'],
    });
    const secret = key.json<{ key: string }>().key;

    expect((await call(admin.tokens.access_token, 'POST', `/organizations/${org}/exports`)).statusCode).toBe(403);
    const mailsBefore = smtp.messages.length;
    const requested = await call(owner.tokens.access_token, 'POST', `/organizations/${org}/exports`);
    expect(requested.statusCode).toBe(202);
    const { id } = requested.json<{ id: string }>();
    const token = await tokenFromMail(smtp, owner.email, /organization export/, mailsBefore);
    const status = await call(owner.tokens.access_token, 'GET', `/organizations/${org}/exports/${id}`);
    expect(status.json()).toMatchObject({ id });
    // Another organization's owner cannot see it.
    const other = await registerAndLogin(t, 'orgexp-other');
    const otherOrg = (await call(other.tokens.access_token, 'POST', '/organizations', { name: 'Other' })).json<{
      id: string;
    }>().id;
    expect((await call(other.tokens.access_token, 'GET', `/organizations/${otherOrg}/exports/${id}`)).statusCode).toBe(
      404,
    );

    const res = await download(token);
    expect(res.statusCode).toBe(200);
    const archive = res.json<{
      format: string;
      organization: { id: string };
      members: Array<{ email: string; roles: string[] }>;
      apiKeys: unknown[];
      auditLog: Array<{ action: string }>;
    }>();
    expect(archive).toMatchObject({ format: ORGANIZATION_EXPORT_FORMAT, organization: { id: org } });
    expect(archive.members.map((member) => member.email).sort()).toEqual(
      [owner.email, coOwner.email, admin.email].sort(),
    );
    expect(archive.apiKeys).toHaveLength(1);
    expect(archive.auditLog.map((row) => row.action)).toEqual(
      expect.arrayContaining(['organization.create', 'organization.export.request']),
    );
    expect(res.body).not.toContain(secret);
    expect(res.body).not.toMatch(/key_hash|keyHash|secret_sealed|token_hash|password/i);

    // A second export; the owner who asked stops being one before downloading it: refused.
    const mailsMid = smtp.messages.length;
    expect((await call(owner.tokens.access_token, 'POST', `/organizations/${org}/exports`)).statusCode).toBe(202);
    const second = await tokenFromMail(smtp, owner.email, /organization export/, mailsMid);
    const demoted = await call(
      coOwner.tokens.access_token,
      'PUT',
      `/organizations/${org}/members/${owner.userId}/roles`,
      {
        roleIds: [SYSTEM_ROLES.admin.id],
      },
    );
    expect(demoted.statusCode).toBe(200);
    expect((await download(second)).statusCode).toBe(410);
  });

  it('builds nothing for an account erased while its export waited in the queue', async () => {
    const dave = await registerAndLogin(t, 'export-dave');
    // A pending export whose job has not run yet (written as the request would, without the job).
    const exportId = await t.app.get(TenantTransaction).runAsSystem(async (manager) => {
      const row = manager.create(AccountExport, { userId: dave.userId, status: 'pending' });
      await manager.insert(AccountExport, row);
      return row.id;
    });
    expect((await call(dave.tokens.access_token, 'DELETE', '/users/me')).statusCode).toBe(204);
    await t.app.get(AccountExportProcessor).handle({ exportId });
    expect(await t.dataSource.query('SELECT 1 FROM account_exports WHERE user_id = $1', [dave.userId])).toEqual([]);

    // Had the row survived (an erasure that raced it), the job cancels it instead of building.
    const late = await t.app.get(TenantTransaction).runAsSystem(async (manager) => {
      const row = manager.create(AccountExport, { userId: dave.userId, status: 'pending' });
      await manager.insert(AccountExport, row);
      return row.id;
    });
    await t.app.get(AccountExportProcessor).handle({ exportId: late });
    const [row] = await t.dataSource.query<Array<{ status: string; archive: string | null }>>(
      'SELECT status, archive FROM account_exports WHERE id = $1',
      [late],
    );
    expect(row).toEqual({ status: 'cancelled', archive: null });
  });
});
