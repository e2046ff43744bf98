import { AuditLog, Invitation, TenantTransaction } from '@app/database';
import { SYSTEM_ROLES } from '@app/rbac';
import {
  bearer,
  createTestApp,
  readsOf,
  SHOWN_ONLY,
  login,
  markEmailVerified,
  register,
  registerAndLogin,
  startSmtpSink,
  tokenFromMail,
  uniqueEmail,
  type SmtpSink,
  type TestApp,
  type Tokens,
} from '@app/testing';
import { autolinks, htmlView } from '../support/mail-links';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
const INVITE_SUBJECT = /^You have an invitation on /;
const PHISHING_NAME = 'URGENT reset your password at http://evil.test/reset now';

describe('invitations', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let owner: Account;
  let orgId: string;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, APP_URL: 'https://app.example.test' } });
    owner = await registerAndLogin(t, 'inv-owner');
    await markEmailVerified(t, owner.userId);
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(owner.tokens.access_token),
      payload: { name: 'Invite <Co>' },
    });
    orgId = res.json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const call = (as: Account, method: Method, url: string, payload?: object) =>
    t.inject({ method, url: `/api/v1${url}`, headers: bearer(as.tokens.access_token), payload });
  const org = (path = '') => `/organizations/${orgId}/invitations${path}`;

  async function verifiedAccount(label: string): Promise<Account> {
    const account = await registerAndLogin(t, label);
    await markEmailVerified(t, account.userId);
    return account;
  }

  async function invite(email: string, roleIds?: string[], as: Account = owner) {
    const before = smtp.messages.length;
    const res = await call(as, 'POST', org(), { email, roleIds });
    expect(res.statusCode).toBe(201);
    const token = await tokenFromMail(smtp, email, INVITE_SUBJECT, before);
    return { invitation: res.json<{ id: string; status: string; roles: Array<{ name: string }> }>(), token };
  }

  async function joinAs(label: string, roleId: string): Promise<Account> {
    const account = await verifiedAccount(label);
    const { token } = await invite(account.email, [roleId]);
    expect((await call(account, 'POST', '/invitations/accept', { token })).statusCode).toBe(200);
    return account;
  }

  it('invites by email, mails a link, and accepting makes the invitee a member with the invited roles', async () => {
    const ivy = await verifiedAccount('inv-ivy');
    const before = smtp.messages.length;
    const res = await call(owner, 'POST', org(), {
      email: `  ${ivy.email.toUpperCase()} `,
      roleIds: [SYSTEM_ROLES.admin.id],
    });
    expect(res.statusCode).toBe(201);
    const body = res.json<Record<string, unknown>>();
    expect(body).toMatchObject({ email: ivy.email, status: 'pending', roles: [{ name: 'admin', isSystem: true }] });
    expect(JSON.stringify(body)).not.toMatch(/inv_|tokenHash/);
    const mail = await smtp.waitFor(
      (m) => m.to.includes(ivy.email) && INVITE_SUBJECT.test(m.subject) && smtp.messages.indexOf(m) >= before,
    );
    expect(mail.text).toContain('https://app.example.test/accept-invitation?token=inv_');
    expect(mail.html).toContain('Invite &lt;Co&gt;');
    expect(mail.html).not.toContain('Invite <Co>');
    const token = await tokenFromMail(smtp, ivy.email, INVITE_SUBJECT, before);

    const listed = await call(ivy, 'GET', '/invitations');
    expect(listed.statusCode).toBe(200);
    // Showing a received invitation reads none of its credential columns (nor anyone else's).
    expect(await readsOf(t, `/api/v1/invitations`, ivy.tokens.access_token, 'invitations')).toEqual(SHOWN_ONLY);
    expect(listed.json<Array<{ organization: object }>>().map((i) => i.organization)).toEqual([
      { id: orgId, name: 'Invite <Co>', slug: expect.any(String) as string },
    ]);

    const accepted = await call(ivy, 'POST', '/invitations/accept', { token });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ organization: { id: orgId }, roles: [{ name: 'admin' }] });
    // The new admin can act at once (the permission cache was invalidated).
    expect((await call(ivy, 'GET', `/organizations/${orgId}/members`)).statusCode).toBe(200);
    expect((await call(ivy, 'GET', org())).statusCode).toBe(200);
    expect((await call(ivy, 'GET', '/invitations')).json()).toEqual([]);

    // Replaying the token is refused, and says why.
    const replay = await call(ivy, 'POST', '/invitations/accept', { token });
    expect(replay.statusCode).toBe(409);
    expect(replay.json<{ type: string }>().type).toMatch(/invitation-used$/);
    const status = await call(owner, 'GET', org(`/${res.json<{ id: string }>().id}`));
    expect(status.json()).toMatchObject({ status: 'accepted' });
    expect(status.json<{ acceptedAt: string | null }>().acceptedAt).not.toBeNull();
  });

  it('keeps names chosen by the inviting side out of the subject, and their links dead in the body', async () => {
    // An inviter whose own name is bait too, in an organization named like a phishing mail.
    const email = uniqueEmail('inv-phisher');
    await register(t, email, undefined, 'Security desk, see www.evil.test');
    const phisher = { email, userId: '', tokens: (await login(t, email)).json<Tokens>() };
    const created = await call(phisher, 'POST', '/organizations', { name: PHISHING_NAME });
    expect(created.statusCode).toBe(201);
    const phishingOrg = created.json<{ id: string }>().id;
    const victim = uniqueEmail('inv-victim');
    const before = smtp.messages.length;
    const res = await call(phisher, 'POST', `/organizations/${phishingOrg}/invitations`, { email: victim });
    expect(res.statusCode).toBe(201);
    const mail = await smtp.waitFor((m) => m.to.includes(victim) && smtp.messages.indexOf(m) >= before);

    expect(mail.subject).toBe(`You have an invitation on ${t.config.appName}`);
    expect(mail.subject).not.toMatch(/URGENT|evil|Security desk/i);
    // Quoted, with the links broken, in both parts; the accept link is the one live link.
    expect(mail.text).toContain('"URGENT reset your password at http[:]//evil[.]test/reset now"');
    expect(mail.text).toContain('"Security desk, see www[.]evil[.]test" invited you');
    expect(`${mail.text}\n${mail.html}`).not.toMatch(/evil\.test|http:\/\/evil/);
    const links = await autolinks(mail.text);
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/^https:\/\/app\.example\.test\/accept-invitation\?token=inv_/);
    const view = await htmlView(mail.html);
    expect(view.text).toContain('http[:]//evil[.]test/reset');
    expect(view.anchors).toEqual(links);
    expect(await autolinks(view.text)).toEqual(links);
  });

  it('accepts a listed invitation by id without the token, only for its addressee', async () => {
    const lee = await verifiedAccount('inv-lee');
    const other = await verifiedAccount('inv-other');
    const { invitation } = await invite(lee.email);
    expect((await call(other, 'POST', `/invitations/${invitation.id}/accept`)).statusCode).toBe(404);
    const res = await call(lee, 'POST', `/invitations/${invitation.id}/accept`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ roles: [{ name: 'member' }] });
  });

  it('refuses a mismatched, unverified, unknown or malformed acceptance with a clear reason, and audits refusals', async () => {
    const intended = await verifiedAccount('inv-intended');
    const thief = await verifiedAccount('inv-thief');
    const { invitation, token } = await invite(intended.email);

    const mismatch = await call(thief, 'POST', '/invitations/accept', { token });
    expect(mismatch.statusCode).toBe(403);
    expect(mismatch.json<{ type: string }>().type).toMatch(/invitation-email-mismatch$/);
    expect(mismatch.json<{ detail: string }>().detail).not.toContain(intended.email);

    const unverified = await registerAndLogin(t, 'inv-unverified');
    const second = await invite(unverified.email);
    const notVerified = await call(unverified, 'POST', '/invitations/accept', { token: second.token });
    expect(notVerified.statusCode).toBe(403);
    expect(notVerified.json<{ type: string }>().type).toMatch(/email-not-verified$/);
    expect((await call(unverified, 'GET', '/invitations')).statusCode).toBe(403);

    const unknown = await call(intended, 'POST', '/invitations/accept', { token: `inv_${'x'.repeat(43)}` });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json<{ type: string }>().type).toMatch(/invitation-not-found$/);
    const malformed = await call(intended, 'POST', '/invitations/accept', { token: 'ev_not-an-invitation' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ errors: [expect.objectContaining({ field: 'token' })] });

    // Still usable by the right person after the failed attempts.
    expect((await call(intended, 'POST', '/invitations/accept', { token })).statusCode).toBe(200);
    const refusals = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) =>
        m.find(AuditLog, { where: { action: 'invitation.accept', outcome: 'failure', targetId: invitation.id } }),
      );
    expect(refusals.map((row) => row.metadata)).toEqual([{ reason: 'email_mismatch' }]);
  });

  it('refuses expired and revoked invitations with 410, and resend replaces the link', async () => {
    const late = await verifiedAccount('inv-late');
    const { invitation, token } = await invite(late.email);
    await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.update(Invitation, { id: invitation.id }, { expiresAt: new Date(Date.now() - 1000) }));
    const expired = await call(late, 'POST', '/invitations/accept', { token });
    expect(expired.statusCode).toBe(410);
    expect(expired.json<{ type: string }>().type).toMatch(/invitation-expired$/);
    expect((await call(owner, 'GET', `${org()}?status=expired`)).json()).toMatchObject({
      items: [expect.objectContaining({ id: invitation.id, status: 'expired' })],
    });
    // The organization's invitations are listed without their tokens' hashes.
    expect(await readsOf(t, `/api/v1${org()}`, owner.tokens.access_token, 'invitations')).toEqual(SHOWN_ONLY);
    expect(await readsOf(t, `/api/v1${org(`/${invitation.id}`)}`, owner.tokens.access_token, 'invitations')).toEqual(
      SHOWN_ONLY,
    );

    const before = smtp.messages.length;
    const resent = await call(owner, 'POST', org(`/${invitation.id}/resend`));
    expect(resent.statusCode).toBe(200);
    expect(resent.json()).toMatchObject({ status: 'pending' });
    const fresh = await tokenFromMail(smtp, late.email, INVITE_SUBJECT, before);
    expect(fresh).not.toBe(token);
    // The old link is dead; the new one works.
    expect((await call(late, 'POST', '/invitations/accept', { token })).statusCode).toBe(404);

    const { invitation: other, token: otherToken } = await invite((await verifiedAccount('inv-gone')).email);
    expect((await call(owner, 'DELETE', org(`/${other.id}`))).statusCode).toBe(204);
    expect((await call(owner, 'DELETE', org(`/${other.id}`))).statusCode).toBe(204);
    const gone = await t.inject({
      method: 'POST',
      url: '/api/v1/invitations/accept',
      headers: bearer((await verifiedAccount('inv-someone')).tokens.access_token),
      payload: { token: otherToken },
    });
    expect(gone.statusCode).toBe(410);
    expect(gone.json<{ type: string }>().type).toMatch(/invitation-revoked$/);
    expect((await call(owner, 'POST', org(`/${other.id}/resend`))).statusCode).toBe(410);

    expect((await call(late, 'POST', '/invitations/accept', { token: fresh })).statusCode).toBe(200);
    expect((await call(owner, 'DELETE', org(`/${invitation.id}`))).statusCode).toBe(409);
  });

  it('refuses duplicates: a pending invitation for the address, or an address that is a member', async () => {
    const dup = await verifiedAccount('inv-dup');
    await invite(dup.email);
    const again = await call(owner, 'POST', org(), { email: dup.email });
    expect(again.statusCode).toBe(409);
    expect(again.json<{ type: string }>().type).toMatch(/already-invited$/);
    const member = await call(owner, 'POST', org(), { email: owner.email.toUpperCase() });
    expect(member.statusCode).toBe(409);
    expect(member.json<{ type: string }>().type).toMatch(/already-member$/);
  });

  it('validates input as problem+json and writes nothing', async () => {
    const res = await call(owner, 'POST', org(), { email: 'not-an-email', roleIds: ['nope'], extra: 1 });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const fields = res.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['email', 'roleIds', 'extra']));
    const foreignRole = await call(owner, 'POST', org(), {
      email: 'nobody@example.test',
      roleIds: [SYSTEM_ROLES['team-admin'].id],
    });
    expect(foreignRole.statusCode).toBe(400);
    const count = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.countBy(Invitation, { email: 'nobody@example.test' }));
    expect(count).toBe(0);
  });

  it('stops escalation: an admin cannot invite an owner, a member cannot invite, a viewer cannot list', async () => {
    const admin = await joinAs('inv-admin', SYSTEM_ROLES.admin.id);
    const member = await joinAs('inv-member', SYSTEM_ROLES.member.id);
    const viewer = await joinAs('inv-viewer', SYSTEM_ROLES.viewer.id);
    const escalate = await call(admin, 'POST', org(), { email: 'boss@example.test', roleIds: [SYSTEM_ROLES.owner.id] });
    expect(escalate.statusCode).toBe(403);
    expect(escalate.json<{ missingPermissions: string[] }>().missingPermissions).toContain('organizations:delete');
    expect((await call(admin, 'POST', org(), { email: 'helper@example.test' })).statusCode).toBe(201);
    expect((await call(member, 'POST', org(), { email: 'friend@example.test' })).statusCode).toBe(403);
    expect((await call(viewer, 'POST', org(), { email: 'friend@example.test' })).statusCode).toBe(403);
    expect((await call(viewer, 'GET', org())).statusCode).toBe(200);

    // An owner invitation cannot be resent by an admin, and goes stale if its inviter is demoted.
    const boss = await verifiedAccount('inv-boss');
    const coOwner = await joinAs('inv-co-owner', SYSTEM_ROLES.owner.id);
    const { invitation, token } = await invite(boss.email, [SYSTEM_ROLES.owner.id], coOwner);
    expect((await call(admin, 'POST', org(`/${invitation.id}/resend`))).statusCode).toBe(403);
    const demote = await call(owner, 'PUT', `/organizations/${orgId}/members/${coOwner.userId}/roles`, {
      roleIds: [SYSTEM_ROLES.member.id],
    });
    expect(demote.statusCode).toBe(200);
    const stale = await call(boss, 'POST', '/invitations/accept', { token });
    expect(stale.statusCode).toBe(409);
    expect(stale.json<{ type: string }>().type).toMatch(/invitation-stale$/);
    const members = await call(owner, 'GET', `/organizations/${orgId}/members?pageSize=100`);
    expect(members.json<{ items: Array<{ userId: string }> }>().items.map((m) => m.userId)).not.toContain(boss.userId);
  });

  it("keeps each organization's invitations to itself", async () => {
    const stranger = await verifiedAccount('inv-stranger');
    const own = await call(stranger, 'POST', '/organizations', { name: 'Elsewhere' });
    const otherOrg = own.json<{ id: string }>().id;
    const { invitation } = await invite((await verifiedAccount('inv-target')).email);
    expect((await call(stranger, 'GET', org())).statusCode).toBe(404);
    expect((await call(stranger, 'GET', `/organizations/${otherOrg}/invitations/${invitation.id}`)).statusCode).toBe(
      404,
    );
    expect((await call(stranger, 'DELETE', `/organizations/${otherOrg}/invitations/${invitation.id}`)).statusCode).toBe(
      404,
    );
    expect(
      (await call(stranger, 'POST', `/organizations/${otherOrg}/invitations/${invitation.id}/resend`)).statusCode,
    ).toBe(404);
    expect((await call(owner, 'GET', org(`/${invitation.id}`))).json()).toMatchObject({ status: 'pending' });
  });
});

describe('invitations per organization per day', () => {
  const LIMIT = 3;
  // The test database is on disk (a PGlite directory, or PostgreSQL), so the bound can be seen to
  // survive a restart of the api.
  const env = { INVITATIONS_PER_ORG_PER_DAY: String(LIMIT) };
  let first: TestApp;
  let t: TestApp;
  let owner: Account;
  let orgId: string;

  beforeAll(async () => {
    first = t = await createTestApp({ env });
    owner = await registerAndLogin(t, 'bound-owner');
    orgId = (await createOrg('Bounded')).json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
    if (t !== first) await first.database.drop();
  });

  const call = (method: Method, url: string, payload?: object) =>
    t.inject({ method, url: `/api/v1${url}`, headers: bearer(owner.tokens.access_token), payload });
  const createOrg = (name: string) => call('POST', '/organizations', { name });
  const invite = (org: string, email = uniqueEmail('bound')) =>
    call('POST', `/organizations/${org}/invitations`, { email });
  const mailsQueued = () =>
    t.app
      .get(TenantTransaction)
      .runAsSystem((m) =>
        m.query<Array<{ n: number }>>(
          `SELECT count(*)::int AS n FROM outbox WHERE payload->>'subject' LIKE 'You have an invitation%'`,
        ),
      )
      .then((rows) => rows[0]?.n ?? 0);

  it('counts new and resent invitations, refuses the next with 429 and Retry-After, and audits the refusal', async () => {
    const first = await invite(orgId);
    expect(first.statusCode).toBe(201);
    expect((await invite(orgId)).statusCode).toBe(201);
    const firstId = first.json<{ id: string }>().id;
    expect((await call('POST', `/organizations/${orgId}/invitations/${firstId}/resend`)).statusCode).toBe(200);
    const queued = await mailsQueued();

    const refusedEmail = uniqueEmail('bound-refused');
    const refused = await invite(orgId, refusedEmail);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ type: '/problems/invitation-limit', status: 429, limit: LIMIT });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    const resend = await call('POST', `/organizations/${orgId}/invitations/${firstId}/resend`);
    expect(resend.statusCode).toBe(429);
    expect(resend.json()).toMatchObject({ type: '/problems/invitation-limit' });
    expect(resend.headers['retry-after']).toBeDefined();

    // Nothing was written or mailed for the refused sends, and each refusal has its audit row.
    expect(await t.app.get(TenantTransaction).runAsSystem((m) => m.countBy(Invitation, { email: refusedEmail }))).toBe(
      0,
    );
    expect(await mailsQueued()).toBe(queued);
    const refusals = await t.app.get(TenantTransaction).runAsSystem((m) =>
      m.find(AuditLog, {
        where: { organizationId: orgId, outcome: 'failure' },
        order: { occurredAt: 'ASC' },
      }),
    );
    expect(refusals.map((row) => [row.action, row.actorId, row.metadata.reason, row.metadata.limit])).toEqual([
      ['invitation.create', owner.userId, 'daily_limit', LIMIT],
      ['invitation.resend', owner.userId, 'daily_limit', LIMIT],
    ]);

    // The bound is the organization's: another one of the same owner still invites.
    const other = (await createOrg('Unbounded')).json<{ id: string }>().id;
    expect((await invite(other)).statusCode).toBe(201);
  });

  it('holds across a restart, and frees a place when the oldest send of the day turns a day old', async () => {
    // The api stops; a new one starts on the same database (on disk here, or the same PostgreSQL one).
    await t.app.close();
    t = await createTestApp({ env, replicaOf: first });
    expect((await invite(orgId)).statusCode).toBe(429);

    // Age the first counted send past 24 hours (as the owner of the database, not the api's role).
    await t.dataSource.query(
      `UPDATE audit_logs SET occurred_at = now() - interval '25 hours'
        WHERE id = (SELECT id FROM audit_logs WHERE organization_id = $1 AND outcome = 'success'
                      AND action IN ('invitation.create', 'invitation.resend') ORDER BY occurred_at LIMIT 1)`,
      [orgId],
    );
    expect((await invite(orgId)).statusCode).toBe(201);
    expect((await invite(orgId)).statusCode).toBe(429);
  });

  it('documents the bound on the invite and resend routes', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<
        string,
        Record<string, { description?: string; responses: Record<string, { description: string }> }>
      >;
    }>();
    for (const path of [
      '/api/v1/organizations/{orgId}/invitations',
      '/api/v1/organizations/{orgId}/invitations/{invitationId}/resend',
    ]) {
      const operation = doc.paths[path]?.post;
      expect(operation?.responses['429']?.description).toContain('/problems/invitation-limit');
      expect(operation?.description).toContain('INVITATIONS_PER_ORG_PER_DAY');
    }
  });
});
