import { AuditLog, OutboxMessage, TenantTransaction } from '@app/database';
import { PasswordResetRequestJob } from '@app/jobs';
import { JobQueue, OutboxRelay, type InProcessJobQueue } from '@app/queue';
import { PasswordPolicy } from '@app/auth';
import type { ProblemException } from '@app/common';
import {
  bearer,
  createTestApp,
  login,
  register,
  registerAndLogin,
  startSmtpSink,
  STRONG_PASSWORD,
  tokenFromMail,
  uniqueEmail,
  type SmtpSink,
  type TestApp,
  type Tokens,
} from '@app/testing';
import jwt from 'jsonwebtoken';
import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { decoySlot } from '../../../apps/api/src/auth/lockout.service';
import { LOGIN_DECOY_SLOTS } from '@app/migrations';

const PROBLEM = /^application\/problem\+json/;

describe('local identity', () => {
  let smtp: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({
      env: {
        SMTP_URL: smtp.url,
        LOCKOUT_THRESHOLD: '3',
        LOCKOUT_DURATION_SECONDS: '2',
        APP_URL: 'https://app.example.test',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const me = (token: string) => t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) });

  const auditActions = (userId: string) =>
    t.app
      .get(TenantTransaction)
      .runAsSystem((m) => m.find(AuditLog, { where: { actorId: userId }, order: { occurredAt: 'ASC' } }));

  // (RS256 publishes its key: see 'RS256 access tokens' below.) This app signs with HS256.
  it('publishes no key set with HS256', async () => {
    expect(t.config.auth.algorithm).toBe('HS256');
    expect((await t.inject({ method: 'GET', url: '/.well-known/jwks.json' })).statusCode).toBe(404);
  });

  describe('registration', () => {
    it('creates the user, hides secrets, and mails a verification link', async () => {
      const email = uniqueEmail('reg');
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email: `  ${email.toUpperCase()} `, password: STRONG_PASSWORD, fullName: 'Reg <b>User</b>' },
      });
      expect(res.statusCode).toBe(201);
      const body = res.json<Record<string, unknown>>();
      expect(body).toMatchObject({ email, fullName: 'Reg <b>User</b>', emailVerified: false });
      expect(Object.keys(body).sort()).toEqual([
        'createdAt',
        'email',
        'emailVerified',
        'fullName',
        'id',
        'isPlatformAdmin',
        'mfaEnabled',
      ]);
      const mail = await smtp.waitFor((m) => m.to.includes(email));
      expect(mail.text).toContain('https://app.example.test/verify-email?token=ev_');
      // The name was typed by whoever typed the address: the mail does not repeat it, in either part.
      expect(`${mail.subject}\n${mail.text}\n${mail.html}`).not.toMatch(/Reg|User/);
    });

    it('refuses a duplicate email whatever its case: 409', async () => {
      const email = uniqueEmail('dup');
      await register(t, email);
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email: email.toUpperCase(), password: STRONG_PASSWORD },
      });
      expect(res.statusCode).toBe(409);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    });

    it('names every rule a weak password breaks: 400', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email: uniqueEmail('weak'), password: 'password' },
      });
      expect(res.statusCode).toBe(400);
      const messages = res.json<{ errors: Array<{ field: string; message: string }> }>().errors;
      expect(messages.every((error) => error.field === 'password')).toBe(true);
      expect(messages.map((error) => error.message)).toEqual(
        expect.arrayContaining([
          'password must be at least 10 characters long',
          expect.stringMatching(/too easy to guess/),
        ]),
      );
    });

    it('refuses a password built from the email or name', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email: 'zanzibarquokka@example.test', password: 'zanzibarquokka2024!', fullName: 'Zed' },
      });
      expect(res.statusCode).toBe(400);
      expect(JSON.stringify(res.json())).toContain('must not contain your email address or name');
    });

    it('refuses mass assignment of privileged fields: 400', async () => {
      for (const extra of [{ emailVerified: true }, { isPlatformAdmin: true }, { passwordHash: 'x' }]) {
        const res = await t.inject({
          method: 'POST',
          url: '/api/v1/auth/register',
          payload: { email: uniqueEmail('mass'), password: STRONG_PASSWORD, ...extra },
        });
        expect(res.statusCode).toBe(400);
        expect(res.json<{ errors: Array<{ field: string }> }>().errors[0]?.field).toBe(Object.keys(extra)[0]);
      }
    });
  });

  describe('sign-in', () => {
    it('returns an RFC 6749 token response', async () => {
      const { tokens, userId } = await registerAndLogin(t, 'login');
      expect(tokens.token_type).toBe('Bearer');
      expect(tokens.expires_in).toBe(900);
      expect(tokens.refresh_token).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
      const claims = jwt.decode(tokens.access_token, { complete: true });
      expect(claims?.header.alg).toBe('HS256');
      expect(claims?.payload).toMatchObject({ sub: userId, aud: 'saas-api', iss: 'https://app.example.test' });
      expect(Object.keys(claims?.payload as object).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub']);
    });

    it('answers every failure with the same 401', async () => {
      const { email } = await registerAndLogin(t, 'same401');
      const wrong = await login(t, email, 'Wrong-Password-123456');
      const unknown = await login(t, uniqueEmail('nobody'), STRONG_PASSWORD);
      expect(wrong.statusCode).toBe(401);
      expect(unknown.statusCode).toBe(401);
      const strip = (body: Record<string, unknown>) => ({ ...body, instance: undefined });
      expect(strip(wrong.json())).toEqual(strip(unknown.json()));
      expect(wrong.json()).toMatchObject({ detail: 'Invalid email or password.' });
    });

    it('serves /auth/me and /users/me to the token holder only', async () => {
      const { tokens, email } = await registerAndLogin(t, 'me');
      const viaAuth = await t.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(tokens.access_token) });
      const viaUsers = await me(tokens.access_token);
      expect(viaAuth.statusCode).toBe(200);
      expect(viaUsers.json()).toEqual(viaAuth.json());
      expect(viaUsers.json()).toMatchObject({ email });
      const anonymous = await t.inject({ method: 'GET', url: '/api/v1/users/me' });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    });

    it('refuses forged, expired and foreign tokens', async () => {
      const { tokens } = await registerAndLogin(t, 'forged');
      const claims = jwt.decode(tokens.access_token) as { sub: string; sid: string; iss: string; aud: string };
      const secret = t.config.jwtSecret;
      const body = { sub: claims.sub, sid: claims.sid, jti: 'x', iss: claims.iss, aud: claims.aud };
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
        JSON.stringify({ ...body, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 }),
      ).toString('base64url')}.`;
      const forged = [
        unsigned,
        jwt.sign(body, 'some-other-secret-that-is-long-enough-0000', { algorithm: 'HS256', expiresIn: 600 }),
        jwt.sign({ ...body, iss: 'https://evil.example' }, secret, { algorithm: 'HS256', expiresIn: 600 }),
        jwt.sign({ ...body, aud: 'another-api' }, secret, { algorithm: 'HS256', expiresIn: 600 }),
        jwt.sign({ ...body, exp: Math.floor(Date.now() / 1000) - 10 }, secret, { algorithm: 'HS256' }),
        jwt.sign(body, secret, { algorithm: 'HS512', expiresIn: 600 }),
        `${tokens.access_token.slice(0, -2)}xx`,
      ];
      for (const token of forged) {
        expect({ token, status: (await me(token)).statusCode }).toEqual({ token, status: 401 });
      }
      // The genuine one still works.
      expect((await me(tokens.access_token)).statusCode).toBe(200);
    });
  });

  describe('refresh tokens', () => {
    it('rotate: a new pair each time, the old refresh token dies', async () => {
      const { tokens } = await registerAndLogin(t, 'rotate');
      const first = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: tokens.refresh_token },
      });
      expect(first.statusCode).toBe(200);
      const next = first.json<Tokens>();
      expect(next.refresh_token).not.toBe(tokens.refresh_token);
      expect((await me(next.access_token)).statusCode).toBe(200);
    });

    it('reuse of a rotated token revokes the whole session (family)', async () => {
      const { tokens, userId } = await registerAndLogin(t, 'reuse');
      const rotated = (
        await t.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refresh_token: tokens.refresh_token },
        })
      ).json<Tokens>();
      const replay = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: tokens.refresh_token },
      });
      expect(replay.statusCode).toBe(401);
      // The legitimate holder's newer tokens died with the family.
      const newer = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: rotated.refresh_token },
      });
      expect(newer.statusCode).toBe(401);
      expect((await me(rotated.access_token)).statusCode).toBe(401);
      expect((await auditActions(userId)).map((row) => row.action)).toContain('auth.refresh.reuse');
    });

    it('refuses unknown or malformed refresh tokens', async () => {
      for (const refresh_token of ['rt_nope', 'garbage', 'x'.repeat(150)]) {
        const res = await t.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token } });
        expect(res.statusCode).toBe(401);
      }
      const missing = await t.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: {} });
      expect(missing.statusCode).toBe(400);
    });
  });

  describe('sessions', () => {
    it('logout kills the access token at once, and its refresh token', async () => {
      const { tokens, userId } = await registerAndLogin(t, 'logout');
      expect((await me(tokens.access_token)).statusCode).toBe(200);
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(tokens.access_token),
        payload: {},
      });
      expect(res.statusCode).toBe(204);
      expect((await me(tokens.access_token)).statusCode).toBe(401);
      const refresh = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: tokens.refresh_token },
      });
      expect(refresh.statusCode).toBe(401);
      expect((await auditActions(userId)).map((row) => row.action)).toEqual(
        expect.arrayContaining(['auth.register', 'auth.login', 'auth.logout']),
      );
    });

    it('lists sessions with the current one marked, and ends them on request', async () => {
      const { email, tokens: first } = await registerAndLogin(t, 'sessions');
      const second = (await login(t, email, STRONG_PASSWORD, { 'user-agent': 'second-device/1.0' })).json<Tokens>();
      const third = (await login(t, email)).json<Tokens>();
      const list = await t.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: bearer(first.access_token) });
      const sessions =
        list.json<Array<{ id: string; current: boolean; userAgent: string | null; ip: string | null }>>();
      expect(sessions).toHaveLength(3);
      expect(sessions.filter((s) => s.current)).toHaveLength(1);
      expect(sessions.some((s) => s.userAgent === 'second-device/1.0')).toBe(true);
      const secondId = (jwt.decode(second.access_token) as { sid: string }).sid;
      const del = await t.inject({
        method: 'DELETE',
        url: `/api/v1/auth/sessions/${secondId}`,
        headers: bearer(first.access_token),
      });
      expect(del.statusCode).toBe(204);
      expect((await me(second.access_token)).statusCode).toBe(401);
      const others = await t.inject({
        method: 'DELETE',
        url: '/api/v1/auth/sessions',
        headers: bearer(first.access_token),
      });
      expect(others.statusCode).toBe(204);
      expect((await me(third.access_token)).statusCode).toBe(401);
      expect((await me(first.access_token)).statusCode).toBe(200);
    });

    it("answers 404 for another user's session", async () => {
      const alice = await registerAndLogin(t, 'alice');
      const bob = await registerAndLogin(t, 'bob');
      const bobSession = (jwt.decode(bob.tokens.access_token) as { sid: string }).sid;
      const res = await t.inject({
        method: 'DELETE',
        url: `/api/v1/auth/sessions/${bobSession}`,
        headers: bearer(alice.tokens.access_token),
      });
      expect(res.statusCode).toBe(404);
      expect((await me(bob.tokens.access_token)).statusCode).toBe(200);
      const bad = await t.inject({
        method: 'DELETE',
        url: '/api/v1/auth/sessions/not-a-uuid',
        headers: bearer(alice.tokens.access_token),
      });
      expect(bad.statusCode).toBe(400);
    });
  });

  describe('profile and password', () => {
    it('updates the name only', async () => {
      const { tokens } = await registerAndLogin(t, 'profile');
      const ok = await t.inject({
        method: 'PUT',
        url: '/api/v1/users/me',
        headers: bearer(tokens.access_token),
        payload: { fullName: 'New Name' },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ fullName: 'New Name' });
      for (const payload of [{ email: 'other@example.test' }, { emailVerified: true }, { isPlatformAdmin: true }]) {
        const res = await t.inject({
          method: 'PUT',
          url: '/api/v1/users/me',
          headers: bearer(tokens.access_token),
          payload,
        });
        expect(res.statusCode).toBe(400);
      }
      expect((await me(tokens.access_token)).json()).toMatchObject({ emailVerified: false, fullName: 'New Name' });
    });

    it('changes the password: checks the current one, applies the policy, ends the other sessions', async () => {
      const { email, tokens } = await registerAndLogin(t, 'chpw');
      const other = (await login(t, email)).json<Tokens>();
      const url = '/api/v1/users/me/password';
      const wrong = await t.inject({
        method: 'PUT',
        url,
        headers: bearer(tokens.access_token),
        payload: { currentPassword: 'nope-nope-nope', newPassword: 'Another-Strong-Phrase-7731' },
      });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json()).toMatchObject({ errors: [{ field: 'currentPassword' }] });
      const weak = await t.inject({
        method: 'PUT',
        url,
        headers: bearer(tokens.access_token),
        payload: { currentPassword: STRONG_PASSWORD, newPassword: 'short' },
      });
      expect(weak.statusCode).toBe(400);
      expect(weak.json<{ errors: Array<{ field: string }> }>().errors[0]?.field).toBe('newPassword');
      const ok = await t.inject({
        method: 'PUT',
        url,
        headers: bearer(tokens.access_token),
        payload: { currentPassword: STRONG_PASSWORD, newPassword: 'Another-Strong-Phrase-7731' },
      });
      expect(ok.statusCode).toBe(204);
      expect((await me(other.access_token)).statusCode).toBe(401);
      expect((await me(tokens.access_token)).statusCode).toBe(200);
      expect((await login(t, email)).statusCode).toBe(401);
      expect((await login(t, email, 'Another-Strong-Phrase-7731')).statusCode).toBe(200);
    });
  });

  describe('lockout', () => {
    it('locks after the threshold, mails the owner, refuses even the right password, then recovers', async () => {
      const email = uniqueEmail('lock');
      const { id: userId } = await register(t, email);
      for (let attempt = 0; attempt < 3; attempt++)
        expect((await login(t, email, 'Wrong-Password-000')).statusCode).toBe(401);
      await smtp.waitFor((m) => m.to.includes(email) && /locked/.test(m.subject));
      const during = await login(t, email);
      expect(during.statusCode).toBe(401);
      expect(during.json()).toMatchObject({ detail: 'Invalid email or password.' });
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      expect((await login(t, email)).statusCode).toBe(200);
      // The counter was reset: two more failures do not lock again.
      for (let attempt = 0; attempt < 2; attempt++) await login(t, email, 'Wrong-Password-000');
      expect((await login(t, email)).statusCode).toBe(200);
      const actions = (await auditActions(userId)).map((row) => row.action);
      expect(actions.filter((action) => action === 'auth.lockout')).toHaveLength(1);
    });
  });

  describe('what a refused sign-in writes', () => {
    // A transaction that writes a row waits at commit for the write-ahead log to reach disk; one
    // that writes nothing does not. So every password check writes exactly one row first, whether
    // the address has an account or not, and whether the account is locked or not: otherwise a
    // refusal's timing tells which addresses are registered.
    type Version = { xmin: string; attempts: number; reserved: string | null; locked: string | null };
    const COLUMNS = `xmin::text, failed_login_attempts AS attempts, attempt_reserved_at::text AS reserved,
                     locked_until::text AS locked`;
    const version = (sql: string, parameter: string | number) =>
      t.app
        .get(TenantTransaction)
        .runAsSystem((m) => m.query<Version[]>(sql, [parameter]))
        .then((rows) => rows[0]);
    const decoy = (address: string) =>
      version(`SELECT ${COLUMNS} FROM login_decoys WHERE slot = $1`, decoySlot(address));
    const account = (userId: string) => version(`SELECT ${COLUMNS} FROM users WHERE id = $1`, userId);

    it('has a decoy row for every slot an address can map to', async () => {
      const [range] = await t.app
        .get(TenantTransaction)
        .runAsSystem((m) =>
          m.query<Array<{ rows: number; low: number; high: number }>>(
            'SELECT count(*)::int AS rows, min(slot) AS low, max(slot) AS high FROM login_decoys',
          ),
        );
      expect(range).toEqual({ rows: LOGIN_DECOY_SLOTS, low: 0, high: LOGIN_DECOY_SLOTS - 1 });
    });

    it('an unknown address rewrites its decoy row on every attempt, refused ones included', async () => {
      // An address whose row no earlier attempt of this run has touched, so the counts are known.
      let address = uniqueEmail('nobody');
      while ((await decoy(address))?.reserved !== null) address = uniqueEmail('nobody');
      let previous = await decoy(address);
      // The threshold is 3: the first three reserve an attempt, the fourth is refused before any check.
      for (const expected of [1, 2, 3, 3]) {
        expect((await login(t, address, 'Wrong-Password-000')).statusCode).toBe(401);
        const now = await decoy(address);
        expect(now?.xmin).not.toBe(previous?.xmin);
        expect(now?.attempts).toBe(expected);
        previous = now;
      }
      // The address is matched as the account lookup matches it: its case does not change the row.
      expect((await login(t, address.toUpperCase(), 'Wrong-Password-000')).statusCode).toBe(401);
      expect((await decoy(address))?.xmin).not.toBe(previous?.xmin);
    });

    it("a locked account's row is rewritten too, with nothing in it changed", async () => {
      const email = uniqueEmail('locked-write');
      const { id: userId } = await register(t, email);
      const fresh = await account(userId);
      expect((await login(t, email, 'Wrong-Password-000')).statusCode).toBe(401);
      const once = await account(userId);
      expect(once?.xmin).not.toBe(fresh?.xmin);
      expect(once?.attempts).toBe(1);
      for (let attempt = 0; attempt < 2; attempt++) await login(t, email, 'Wrong-Password-000');
      const locked = await account(userId);
      expect(locked?.attempts).toBe(3);
      expect(locked?.locked).not.toBeNull();
      // Locked: refused without a check, the row written all the same, its values as they were.
      expect((await login(t, email)).statusCode).toBe(401);
      const refused = await account(userId);
      expect(refused?.xmin).not.toBe(locked?.xmin);
      expect({ ...refused, xmin: undefined }).toEqual({ ...locked, xmin: undefined });
    });
  });

  describe('lockout under concurrency', () => {
    it('parallel guesses cannot check more passwords than the threshold allows', async () => {
      const email = uniqueEmail('storm');
      const { id: userId } = await register(t, email);
      const guesses = await Promise.all(Array.from({ length: 12 }, (_, i) => login(t, email, `Wrong-Guess-${i}-xyz`)));
      expect(guesses.every((res) => res.statusCode === 401)).toBe(true);
      // Locked: the right password is refused too.
      expect((await login(t, email)).statusCode).toBe(401);
      const rows = await auditActions(userId);
      const checked = rows.filter((row) => row.action === 'auth.login' && row.metadata.reason === 'wrong_password');
      expect(checked.length).toBeLessThanOrEqual(3);
      expect(rows.filter((row) => row.action === 'auth.lockout')).toHaveLength(1);
    });
  });

  describe('hostile input', () => {
    it('answers 400, never 500, to values the database would refuse', async () => {
      for (const fullName of ['nul\u0000byte', 'bell\u0007', 'a\uFE0F'.repeat(200)]) {
        const res = await t.inject({
          method: 'POST',
          url: '/api/v1/auth/register',
          payload: { email: uniqueEmail('hostile'), password: STRONG_PASSWORD, fullName },
        });
        expect(res.statusCode).toBe(400);
        expect(res.headers['content-type']).toMatch(PROBLEM);
      }
    });
  });

  describe('email verification', () => {
    it('verifies once with the mailed token', async () => {
      const mark = smtp.messages.length;
      const { email, tokens } = await registerAndLogin(t, 'verify');
      const token = await tokenFromMail(smtp, email, /Confirm/, mark);
      const ok = await t.inject({ method: 'POST', url: '/api/v1/auth/verify-email', payload: { token } });
      expect(ok.statusCode).toBe(200);
      expect((await me(tokens.access_token)).json()).toMatchObject({ emailVerified: true });
      const again = await t.inject({ method: 'POST', url: '/api/v1/auth/verify-email', payload: { token } });
      expect(again.statusCode).toBe(400);
      expect(again.json()).toMatchObject({ type: '/problems/invalid-token' });
      const resend = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/resend-verification',
        headers: bearer(tokens.access_token),
      });
      expect(resend.statusCode).toBe(409);
    });

    it('resending retires the earlier link', async () => {
      const mark = smtp.messages.length;
      const { email, tokens } = await registerAndLogin(t, 'resend');
      const first = await tokenFromMail(smtp, email, /Confirm/, mark);
      const mark2 = smtp.messages.length;
      const resend = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/resend-verification',
        headers: bearer(tokens.access_token),
      });
      expect(resend.statusCode).toBe(202);
      const second = await tokenFromMail(smtp, email, /Confirm/, mark2);
      expect(second).not.toBe(first);
      expect(
        (await t.inject({ method: 'POST', url: '/api/v1/auth/verify-email', payload: { token: first } })).statusCode,
      ).toBe(400);
      expect(
        (await t.inject({ method: 'POST', url: '/api/v1/auth/verify-email', payload: { token: second } })).statusCode,
      ).toBe(200);
    });
  });

  describe('password reset', () => {
    const resetRequests = (email: string) =>
      t.app
        .get(TenantTransaction)
        .runAsSystem((m) =>
          m
            .createQueryBuilder(OutboxMessage, 'o')
            .where(`o.jobName = :job AND o.payload->>'email' = :email`, { job: PasswordResetRequestJob.name, email })
            .getMany(),
        );
    /** The audit row the reset-request job wrote for the request with this id (waits for the job). */
    const resetRequestAudit = async (requestId: string) => {
      for (let tries = 0; tries < 200; tries++) {
        const row = await t.app.get(TenantTransaction).runAsSystem((m) =>
          m
            .createQueryBuilder(AuditLog, 'a')
            .where(`a.action = 'auth.password.reset_request' AND a.metadata->>'requestId' = :requestId`, {
              requestId,
            })
            .getOne(),
        );
        if (row) return row;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`no reset-request audit row for request ${requestId}`);
    };
    const forgot = (email: string) =>
      t.inject({
        method: 'POST',
        url: '/api/v1/auth/forgot-password',
        payload: { email },
        headers: { 'user-agent': 'reset-probe/1.0' },
      });

    it('does the same work for an account and for no account: the request only queues a job', async () => {
      const { email, userId } = await registerAndLogin(t, 'same-work');
      const ghost = uniqueEmail('same-work-ghost');
      for (const address of [email, ghost]) {
        const res = await forgot(address);
        expect(res.statusCode).toBe(202);
        expect(res.json()).toEqual({ message: 'If the address has an account, a reset mail is on its way.' });
        // One row, of the same job, whatever the address; the lookup happens in the job.
        expect(await resetRequests(address)).toHaveLength(1);
      }
      const known = await resetRequestAudit((await resetRequests(email))[0]!.payload.requestId as string);
      expect(known).toMatchObject({
        outcome: 'success',
        actorId: userId,
        ip: '127.0.0.1',
        userAgent: 'reset-probe/1.0',
      });
      const unknown = await resetRequestAudit((await resetRequests(ghost))[0]!.payload.requestId as string);
      expect(unknown).toMatchObject({
        outcome: 'failure',
        actorId: null,
        ip: '127.0.0.1',
        userAgent: 'reset-probe/1.0',
      });
    });

    it('answers 202 whether or not the account exists, mailing only real accounts', async () => {
      const mark = smtp.messages.length;
      const ghost = uniqueEmail('ghost');
      const res = await forgot(ghost);
      expect(res.statusCode).toBe(202);
      // The job has looked the address up, and whatever it queued has run.
      await resetRequestAudit(res.headers['x-request-id'] as string);
      await t.app.get(OutboxRelay).flush();
      await t.app.get<JobQueue, InProcessJobQueue>(JobQueue).drain();
      expect(smtp.messages.slice(mark).some((m) => m.to.includes(ghost))).toBe(false);
    });

    it('resets once, applies the policy, revokes every session, retires earlier tokens', async () => {
      const { email, tokens } = await registerAndLogin(t, 'reset');
      let mark = smtp.messages.length;
      await t.inject({ method: 'POST', url: '/api/v1/auth/forgot-password', payload: { email } });
      const older = await tokenFromMail(smtp, email, /Reset/, mark);
      mark = smtp.messages.length;
      await t.inject({ method: 'POST', url: '/api/v1/auth/forgot-password', payload: { email } });
      const token = await tokenFromMail(smtp, email, /Reset/, mark);
      const url = '/api/v1/auth/reset-password';
      expect(
        (await t.inject({ method: 'POST', url, payload: { token: older, password: 'Brand-New-Phrase-5512' } }))
          .statusCode,
      ).toBe(400);
      const weak = await t.inject({ method: 'POST', url, payload: { token, password: 'password1' } });
      expect(weak.statusCode).toBe(400);
      expect(weak.json()).toMatchObject({ type: '/problems/validation-error' });
      // A refused password does not burn the token.
      const ok = await t.inject({ method: 'POST', url, payload: { token, password: 'Brand-New-Phrase-5512' } });
      expect(ok.statusCode).toBe(200);
      expect((await me(tokens.access_token)).statusCode).toBe(401);
      expect(
        (
          await t.inject({
            method: 'POST',
            url: '/api/v1/auth/refresh',
            payload: { refresh_token: tokens.refresh_token },
          })
        ).statusCode,
      ).toBe(401);
      expect(
        (await t.inject({ method: 'POST', url, payload: { token, password: 'Another-Phrase-9931' } })).statusCode,
      ).toBe(400);
      expect((await login(t, email, 'Brand-New-Phrase-5512')).statusCode).toBe(200);
    });
  });
});

describe('local identity with AUTH_REQUIRE_VERIFIED_EMAIL=true', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { AUTH_REQUIRE_VERIFIED_EMAIL: 'true' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 403 email-not-verified to a correct password, 401 to a wrong one', async () => {
    const email = uniqueEmail('unverified');
    await register(t, email);
    const res = await login(t, email);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ type: '/problems/email-not-verified' });
    expect((await login(t, email, 'Wrong-Password-000')).statusCode).toBe(401);
  });
});

describe('local identity with short lifetimes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { ACCESS_TOKEN_TTL: '1s', SESSION_IDLE_TIMEOUT: '2s', REFRESH_TOKEN_TTL: '6s' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const refresh = (refresh_token: string) =>
    t.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token } });

  it('expires access tokens after ACCESS_TOKEN_TTL', async () => {
    const { tokens } = await registerAndLogin(t, 'ttl');
    expect(tokens.expires_in).toBe(1);
    await pause(2_100);
    const res = await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(tokens.access_token) });
    expect(res.statusCode).toBe(401);
  });

  it('refuses to refresh a session idle longer than SESSION_IDLE_TIMEOUT', async () => {
    const { tokens } = await registerAndLogin(t, 'idle');
    await pause(2_200);
    expect((await refresh(tokens.refresh_token)).statusCode).toBe(401);
  });

  it('ends a session at REFRESH_TOKEN_TTL even when it is kept busy', async () => {
    let { tokens } = await registerAndLogin(t, 'absolute');
    // The session began before this moment, so it ends at the latest 6 s after it. Three
    // refreshes a second apart (well inside the 2 s idle limit) end well before that, even on a
    // loaded machine; then wait until past the end wherever the session began.
    const signedIn = Date.now();
    for (let i = 0; i < 3; i++) {
      await pause(1_000);
      const res = await refresh(tokens.refresh_token);
      expect(res.statusCode).toBe(200);
      tokens = res.json<Tokens>();
    }
    // Keep it from idling out while waiting for the absolute end.
    while (Date.now() < signedIn + 6_300) {
      await pause(Math.min(1_000, Math.max(0, signedIn + 6_300 - Date.now())));
      const res = await refresh(tokens.refresh_token);
      if (res.statusCode !== 200) {
        // Refused only near the absolute end, never earlier.
        expect(Date.now()).toBeGreaterThan(signedIn + 5_000);
        break;
      }
      tokens = res.json<Tokens>();
    }
    expect((await refresh(tokens.refresh_token)).statusCode).toBe(401);
  });
});

describe('RS256 access tokens', () => {
  let t: TestApp;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  beforeAll(async () => {
    t = await createTestApp({ env: { JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: pem.replace(/\n/g, '\\n') } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('signs with the private key and publishes the public one at /.well-known/jwks.json', async () => {
    const { tokens } = await registerAndLogin(t, 'rsa');
    const decoded = jwt.decode(tokens.access_token, { complete: true });
    expect(decoded?.header).toMatchObject({ alg: 'RS256' });
    const res = await t.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    const [jwk] = res.json<{ keys: Array<JsonWebKey & { kid: string }> }>().keys;
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: decoded?.header.kid });
    expect(JSON.stringify(jwk)).not.toMatch(/"d"|"p"|"q"/);
    // Anyone can verify with the published key alone.
    const publicKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    expect(() => jwt.verify(tokens.access_token, publicKey, { algorithms: ['RS256'] })).not.toThrow();
    expect(
      (await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(tokens.access_token) })).statusCode,
    ).toBe(200);
  });

  it('refuses an HS256 token signed with the public key (algorithm confusion)', async () => {
    const { tokens } = await registerAndLogin(t, 'confused');
    const claims = jwt.decode(tokens.access_token) as { sub: string; sid: string; iss: string; aud: string };
    const res = await t.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    const jwk = res.json<{ keys: JsonWebKey[] }>().keys[0] as JsonWebKey;
    const publicPem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    const forged = jwt.sign({ ...claims, jti: 'x' }, Buffer.from(publicPem), { algorithm: 'HS256' });
    expect((await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(forged) })).statusCode).toBe(401);
  });
});

describe('lockout and genuine bursts', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { LOCKOUT_THRESHOLD: '3' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses sign-ins beyond the threshold that are in flight at once, without locking the account', async () => {
    const email = uniqueEmail('burst');
    await register(t, email);
    const burst = await Promise.all(Array.from({ length: 8 }, () => login(t, email)));
    const statuses = burst.map((res) => res.statusCode);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(3);
    // Not locked: the next sign-in works.
    expect((await login(t, email)).statusCode).toBe(200);
  });
});

describe('password checks under a flood of crafted passwords', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const registerWith = (email: string, password: string) =>
    t.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password } });
  const userCount = (email: string) =>
    t.app.get(TenantTransaction).runAsSystem(async (m) => {
      const rows: Array<{ n: number }> = await m.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [
        email,
      ]);
      return rows[0]?.n;
    });

  it('queues at most 16 checks; the next sign-up gets 503 problem+json, writes nothing, and succeeds later', async () => {
    const checker = t.app.get(PasswordPolicy).checker;
    // Sixteen crafted checks queued at once (a short pattern repeated to the length limit keeps
    // zxcvbn busy for most of a second each), as a flood of sign-ups would queue them.
    const flood = Array.from({ length: 16 }, () =>
      checker.check('aA1!'.repeat(32), []).catch((error: unknown) => error),
    );
    expect(checker.waitingCount).toBe(16);

    const email = uniqueEmail('after-flood');
    const refused = await registerWith(email, STRONG_PASSWORD);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['content-type']).toMatch(PROBLEM);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json()).toMatchObject({ type: expect.stringContaining('password-check-unavailable') as unknown });
    expect(await userCount(email)).toBe(0);

    // Stopping the checker answers what waits with the same 503 (nothing hangs)...
    checker.stop();
    for (const outcome of await Promise.all(flood)) {
      if (outcome instanceof Error) expect((outcome as ProblemException).problem.status).toBe(503);
    }
    // ...and the next sign-up starts a fresh one.
    expect((await registerWith(email, STRONG_PASSWORD)).statusCode).toBe(201);
    expect(await userCount(email)).toBe(1);
  });
});
