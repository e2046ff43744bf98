import {
  bearer,
  createTestApp,
  login,
  registerAndLogin,
  SoftwareAuthenticator,
  STRONG_PASSWORD,
  type CreationOptions,
  type RequestOptions,
  type TestApp,
  type Tokens,
} from '@app/testing';
import { Secret, TOTP } from 'otpauth';

const ORIGIN = 'http://localhost:3000';

interface Account {
  email: string;
  userId: string;
  tokens: Tokens;
}

describe('Passkeys (WebAuthn)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { APP_URL: ORIGIN, LOCKOUT_THRESHOLD: '4' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (url: string, payload: unknown, token?: string) =>
    t.inject({ method: 'POST', url, payload: payload as object, headers: token ? bearer(token) : {} });

  async function registrationOptions(account: Account): Promise<CreationOptions> {
    const res = await post('/api/v1/auth/passkeys/registration/options', {}, account.tokens.access_token);
    expect(res.statusCode).toBe(200);
    return res.json<CreationOptions>();
  }

  async function enrol(
    label = 'passkey',
    authenticator = new SoftwareAuthenticator(ORIGIN),
  ): Promise<Account & { authenticator: SoftwareAuthenticator; passkeyId: string }> {
    const account = await registerAndLogin(t, label);
    const options = await registrationOptions(account);
    const res = await post(
      '/api/v1/auth/passkeys',
      { credential: authenticator.create(options), name: 'Laptop' },
      account.tokens.access_token,
    );
    expect({ status: res.statusCode, body: res.json<unknown>() }).toMatchObject({ status: 201 });
    return { ...account, authenticator, passkeyId: res.json<{ id: string }>().id };
  }

  async function loginOptions(): Promise<RequestOptions> {
    const res = await post('/api/v1/auth/login/passkey/options', {});
    expect(res.statusCode).toBe(200);
    return res.json<RequestOptions>();
  }

  async function auditOf(userId: string, action: string): Promise<Array<{ outcome: string; metadata: unknown }>> {
    return t.dataSource.query(
      `SELECT outcome, metadata FROM audit_logs WHERE (actor_id::text = $1 OR target_id::text = $1) AND action = $2 ORDER BY id`,
      [userId, action],
    );
  }

  it('registers a discoverable passkey with user verification, and lists it without its key', async () => {
    const account = await registerAndLogin(t, 'register');
    const options = await registrationOptions(account);
    expect(options).toMatchObject({
      rp: { id: 'localhost' },
      user: { name: account.email },
      attestation: 'none',
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
    expect(Buffer.from(options.user.id, 'base64url').toString('utf8')).toBe(account.userId);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const sent = authenticator.create(options);
    const res = await post(
      '/api/v1/auth/passkeys',
      { credential: sent, name: 'Work laptop' },
      account.tokens.access_token,
    );
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: 'Work laptop', deviceType: 'multiDevice', backedUp: true });

    const list = await t.inject({
      method: 'GET',
      url: '/api/v1/auth/passkeys',
      headers: bearer(account.tokens.access_token),
    });
    expect(list.statusCode).toBe(200);
    const [passkey] = list.json<{ data: Array<Record<string, unknown>> }>().data;
    expect(passkey).toMatchObject({ name: 'Work laptop', transports: ['internal', 'hybrid'] });
    expect(JSON.stringify(list.json())).not.toMatch(/publicKey|public_key|credentialId/);
    expect(await auditOf(account.userId, 'auth.passkey.register')).toEqual([
      expect.objectContaining({ outcome: 'success' }),
    ]);

    // The same authenticator's credential is excluded next time, and refused if sent again (a
    // `none` attestation does not sign the client data, so the old answer can carry a new challenge).
    const again = await registrationOptions(account);
    expect(again).toMatchObject({ excludeCredentials: [{ id: authenticator.credentialIds[0] }] });
    const resent = JSON.parse(JSON.stringify(sent)) as typeof sent;
    const data = JSON.parse(Buffer.from(resent.response.clientDataJSON, 'base64url').toString()) as object;
    resent.response.clientDataJSON = Buffer.from(JSON.stringify({ ...data, challenge: again.challenge })).toString(
      'base64url',
    );
    const duplicate = await post('/api/v1/auth/passkeys', { credential: resent }, account.tokens.access_token);
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json()).toMatchObject({ type: '/problems/passkey-already-registered' });
  });

  it('signs in with the passkey alone, even when TOTP is on, and records the sign-in', async () => {
    const { authenticator, userId, passkeyId, email, tokens: first } = await enrol('alone');
    const setup = await post('/api/v1/auth/mfa/totp/setup', { password: STRONG_PASSWORD }, first.access_token);
    const secret = Secret.fromBase32(setup.json<{ secret: string }>().secret);
    const code = new TOTP({ secret, digits: 6, period: 30, algorithm: 'SHA1' }).generate();
    expect((await post('/api/v1/auth/mfa/totp/enable', { code }, first.access_token)).statusCode).toBe(200);
    expect((await login(t, email)).json()).toMatchObject({ methods: ['totp', 'recovery_code', 'passkey'] });
    const mfa = await t.inject({ method: 'GET', url: '/api/v1/auth/mfa', headers: bearer(first.access_token) });
    expect(mfa.json()).toMatchObject({ enabled: true, methods: ['totp', 'recovery_code', 'passkey'] });

    const res = await post('/api/v1/auth/login/passkey', { credential: authenticator.get(await loginOptions()) });
    expect(res.statusCode).toBe(200);
    const tokens = res.json<Tokens>();
    const me = await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(tokens.access_token) });
    expect(me.json()).toMatchObject({ id: userId });
    const [session] = await t.dataSource.query<Array<{ auth_method: string }>>(
      'SELECT auth_method FROM sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1',
      [userId],
    );
    expect(session?.auth_method).toBe('passkey');
    const [row] = await t.dataSource.query<Array<{ counter: string; last_used_at: Date | null }>>(
      'SELECT counter, last_used_at FROM passkeys WHERE id = $1',
      [passkeyId],
    );
    expect(row).toMatchObject({ counter: '1' });
    expect(row?.last_used_at).not.toBeNull();
  });

  it('refuses a replayed assertion and a spent challenge', async () => {
    const { authenticator, userId } = await enrol('replay');
    const assertion = authenticator.get(await loginOptions());
    expect((await post('/api/v1/auth/login/passkey', { credential: assertion })).statusCode).toBe(200);
    const replay = await post('/api/v1/auth/login/passkey', { credential: assertion });
    expect(replay.statusCode).toBe(401);
    expect(replay.headers['content-type']).toMatch(/application\/problem\+json/);
    // A fresh signature over a challenge already used is refused too.
    const spent = authenticator.get({
      challenge: (
        JSON.parse(Buffer.from(assertion.response.clientDataJSON, 'base64url').toString()) as { challenge: string }
      ).challenge,
    });
    expect((await post('/api/v1/auth/login/passkey', { credential: spent })).statusCode).toBe(401);
    const refusals = await auditOf(userId, 'auth.login');
    expect(refusals.filter((row) => row.outcome === 'failure')).toHaveLength(2);
  });

  it('refuses a challenge that was never issued', async () => {
    const { authenticator } = await enrol('unissued');
    const res = await post('/api/v1/auth/login/passkey', {
      credential: authenticator.get({ challenge: Buffer.alloc(32, 7).toString('base64url') }),
    });
    expect(res.statusCode).toBe(401);
  });

  it('refuses a wrong origin, a wrong RP id, no user verification and a wrong key', async () => {
    const { authenticator } = await enrol('bent');
    for (const overrides of [
      { origin: 'https://evil.example' },
      { rpId: 'evil.example' },
      { uv: false },
      { wrongKey: true },
      { type: 'webauthn.create' },
      { omitUserHandle: true },
    ]) {
      const res = await post('/api/v1/auth/login/passkey', {
        credential: authenticator.get(await loginOptions(), overrides),
      });
      expect({ overrides, status: res.statusCode }).toEqual({ overrides, status: 401 });
    }
    // None of them used the counter up: a genuine assertion still signs in.
    const ok = await post('/api/v1/auth/login/passkey', { credential: authenticator.get(await loginOptions()) });
    expect(ok.statusCode).toBe(200);
  });

  it('refuses a counter that goes backwards as a cloned authenticator, and audits it', async () => {
    const { authenticator, userId } = await enrol('clone');
    expect(
      (
        await post('/api/v1/auth/login/passkey', {
          credential: authenticator.get(await loginOptions(), { counter: 10 }),
        })
      ).statusCode,
    ).toBe(200);
    const cloned = await post('/api/v1/auth/login/passkey', {
      credential: authenticator.get(await loginOptions(), { counter: 9 }),
    });
    expect(cloned.statusCode).toBe(401);
    const same = await post('/api/v1/auth/login/passkey', {
      credential: authenticator.get(await loginOptions(), { counter: 10 }),
    });
    expect(same.statusCode).toBe(401);
    const warnings = await auditOf(userId, 'auth.passkey.clone_warning');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]?.metadata).toMatchObject({ storedCounter: '10', presentedCounter: 9 });
  });

  it('accepts a counterless (synced) passkey every time', async () => {
    const { authenticator } = await enrol('counterless', new SoftwareAuthenticator(ORIGIN, { counterless: true }));
    for (let i = 0; i < 2; i += 1) {
      const res = await post('/api/v1/auth/login/passkey', { credential: authenticator.get(await loginOptions()) });
      expect(res.statusCode).toBe(200);
    }
  });

  it('answers malformed WebAuthn data with a 400 naming the field, never a 500', async () => {
    const account = await registerAndLogin(t, 'malformed');
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const good = authenticator.create(await registrationOptions(account));
    const cases: Array<[unknown, string]> = [
      [
        {
          ...good,
          response: { ...good.response, attestationObject: Buffer.from('not cbor at all').toString('base64url') },
        },
        'credential',
      ],
      [{ ...good, response: { ...good.response, attestationObject: 'a+b' } }, 'credential.response.attestationObject'],
      [{ ...good, type: 'password' }, 'credential.type'],
      [{ ...good, response: undefined }, 'credential.response'],
    ];
    for (const [credential, field] of cases) {
      // Each case needs a live challenge of its own.
      const options = await registrationOptions(account);
      const bent = JSON.parse(JSON.stringify(credential)) as { response?: { clientDataJSON: string } };
      if (bent.response?.clientDataJSON) {
        const data = JSON.parse(Buffer.from(bent.response.clientDataJSON, 'base64url').toString()) as Record<
          string,
          unknown
        >;
        bent.response.clientDataJSON = Buffer.from(JSON.stringify({ ...data, challenge: options.challenge })).toString(
          'base64url',
        );
      }
      const res = await post('/api/v1/auth/passkeys', { credential: bent }, account.tokens.access_token);
      expect({ field, status: res.statusCode }).toEqual({ field, status: 400 });
      expect(res.json<{ errors: Array<{ field: string }> }>().errors.map((error) => error.field)).toContain(field);
    }
    const login = await post('/api/v1/auth/login/passkey', { credential: { id: 'x' } });
    expect(login.statusCode).toBe(400);
    const list = await t.inject({
      method: 'GET',
      url: '/api/v1/auth/passkeys',
      headers: bearer(account.tokens.access_token),
    });
    expect(list.json<{ data: unknown[] }>().data).toHaveLength(0);
  });

  it('refuses a registration answered for another account or from another origin', async () => {
    const ann = await registerAndLogin(t, 'ann');
    const bob = await registerAndLogin(t, 'bob');
    const annOptions = await registrationOptions(ann);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const stolen = await post(
      '/api/v1/auth/passkeys',
      { credential: authenticator.create(annOptions) },
      bob.tokens.access_token,
    );
    expect(stolen.statusCode).toBe(400);
    const wrongOrigin = await post(
      '/api/v1/auth/passkeys',
      { credential: new SoftwareAuthenticator('https://evil.example').create(await registrationOptions(ann)) },
      ann.tokens.access_token,
    );
    expect(wrongOrigin.statusCode).toBe(400);
    expect(wrongOrigin.json<{ errors: Array<{ message: string }> }>().errors[0]?.message).toMatch(/origin/i);
    const noUv = await post(
      '/api/v1/auth/passkeys',
      { credential: authenticator.create(await registrationOptions(ann), { uv: false }) },
      ann.tokens.access_token,
    );
    expect(noUv.statusCode).toBe(400);
    const failures = (await auditOf(ann.userId, 'auth.passkey.register')).filter((row) => row.outcome === 'failure');
    expect(failures.length).toBe(2);
  });

  it('needs a recent sign-in or step-up to register or delete, and steps up with the password or a passkey', async () => {
    const account = await enrol('stepup');
    // The session's proof of presence is older than STEP_UP_MAX_AGE.
    await t.dataSource.query(`UPDATE sessions SET verified_at = now() - interval '10 minutes' WHERE user_id = $1`, [
      account.userId,
    ]);
    const refused = await post('/api/v1/auth/passkeys/registration/options', {}, account.tokens.access_token);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ type: '/problems/step-up-required', max_age: 300 });
    const del = await t.inject({
      method: 'DELETE',
      url: `/api/v1/auth/passkeys/${account.passkeyId}`,
      headers: bearer(account.tokens.access_token),
    });
    expect(del.statusCode).toBe(403);
    expect((await auditOf(account.userId, 'auth.passkey.delete'))[0]).toMatchObject({ outcome: 'failure' });

    const wrong = await post('/api/v1/auth/step-up', { password: 'not-the-password-123' }, account.tokens.access_token);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ errors: [{ field: 'password' }] });
    const both = await post('/api/v1/auth/step-up', {}, account.tokens.access_token);
    expect(both.statusCode).toBe(400);

    // With a passkey: options bound to this session.
    const options = await post('/api/v1/auth/step-up/options', {}, account.tokens.access_token);
    expect(options.statusCode).toBe(200);
    const stepped = await post(
      '/api/v1/auth/step-up',
      { passkey: account.authenticator.get(options.json<RequestOptions>()) },
      account.tokens.access_token,
    );
    expect(stepped.statusCode).toBe(200);
    expect(new Date(stepped.json<{ validUntil: string }>().validUntil).getTime()).toBeGreaterThan(Date.now());
    const deleted = await t.inject({
      method: 'DELETE',
      url: `/api/v1/auth/passkeys/${account.passkeyId}`,
      headers: bearer(account.tokens.access_token),
    });
    expect(deleted.statusCode).toBe(204);

    // With the password.
    await t.dataSource.query(`UPDATE sessions SET verified_at = now() - interval '10 minutes' WHERE user_id = $1`, [
      account.userId,
    ]);
    expect(
      (await post('/api/v1/auth/step-up', { password: STRONG_PASSWORD }, account.tokens.access_token)).statusCode,
    ).toBe(200);
    expect((await post('/api/v1/auth/passkeys/registration/options', {}, account.tokens.access_token)).statusCode).toBe(
      200,
    );
  });

  it('asks for the second factor too when stepping up with the password', async () => {
    // A passkey account steps up with its passkey, not with the password alone.
    const account = await enrol('stepup-factor');
    const passwordOnly = await post('/api/v1/auth/step-up', { password: STRONG_PASSWORD }, account.tokens.access_token);
    expect(passwordOnly.statusCode).toBe(400);
    expect(passwordOnly.json()).toMatchObject({ errors: [{ field: 'passkey' }] });

    // A TOTP account: the password and a current code.
    const totp = await registerAndLogin(t, 'stepup-totp');
    const setup = await post('/api/v1/auth/mfa/totp/setup', { password: STRONG_PASSWORD }, totp.tokens.access_token);
    const generator = new TOTP({
      secret: Secret.fromBase32(setup.json<{ secret: string }>().secret),
      digits: 6,
      period: 30,
      algorithm: 'SHA1',
    });
    // The previous step's code enables it, so the current one is still unused for the step-up.
    const enable = await post(
      '/api/v1/auth/mfa/totp/enable',
      { code: generator.generate({ timestamp: Date.now() - 30_000 }) },
      totp.tokens.access_token,
    );
    expect(enable.statusCode).toBe(200);
    const noCode = await post('/api/v1/auth/step-up', { password: STRONG_PASSWORD }, totp.tokens.access_token);
    expect(noCode.statusCode).toBe(400);
    expect(noCode.json()).toMatchObject({ errors: [{ field: 'code' }] });
    const withCode = await post(
      '/api/v1/auth/step-up',
      { password: STRONG_PASSWORD, code: generator.generate() },
      totp.tokens.access_token,
    );
    expect(withCode.statusCode).toBe(200);
  });

  it("refuses a step-up assertion made for another session's options", async () => {
    const account = await enrol('stepup-session');
    const other = await login(t, account.email);
    const otherTokens = other.json<Tokens>();
    // Bound to the second session; presented by the first.
    const options = await post('/api/v1/auth/step-up/options', {}, otherTokens.access_token);
    const res = await post(
      '/api/v1/auth/step-up',
      { passkey: account.authenticator.get(options.json<RequestOptions>()) },
      account.tokens.access_token,
    );
    expect(res.statusCode).toBe(400);
  });

  it('is the second factor after the password, with the mfa_token single use', async () => {
    const { email, authenticator } = await enrol('second');
    const first = await login(t, email);
    expect(first.json()).toMatchObject({ mfa_required: true, methods: ['passkey'] });
    const { mfa_token } = first.json<{ mfa_token: string }>();
    const options = await post('/api/v1/auth/login/mfa/passkey/options', { mfa_token });
    expect(options.statusCode).toBe(200);
    expect(options.json<RequestOptions>().allowCredentials).toHaveLength(1);
    const done = await post('/api/v1/auth/login/mfa/passkey', {
      mfa_token,
      credential: authenticator.get(options.json<RequestOptions>()),
    });
    expect(done.statusCode).toBe(200);
    expect(done.json<Tokens>().access_token).toBeDefined();
    // The token is spent.
    const again = await post('/api/v1/auth/login/mfa/passkey/options', { mfa_token });
    expect(again.statusCode).toBe(401);
  });

  it("refuses another account's passkey as the second factor", async () => {
    const ann = await enrol('mfa-ann');
    const bob = await enrol('mfa-bob');
    const first = await login(t, ann.email);
    const { mfa_token } = first.json<{ mfa_token: string }>();
    const options = await post('/api/v1/auth/login/mfa/passkey/options', { mfa_token });
    const res = await post('/api/v1/auth/login/mfa/passkey', {
      mfa_token,
      credential: bob.authenticator.get(options.json<RequestOptions>(), {
        credentialId: bob.authenticator.credentialIds[0],
      }),
    });
    expect(res.statusCode).toBe(401);
  });

  it('refuses a deactivated account', async () => {
    const { authenticator, userId } = await enrol('deactivated');
    await t.dataSource.query('UPDATE users SET is_active = false WHERE id = $1', [userId]);
    const res = await post('/api/v1/auth/login/passkey', { credential: authenticator.get(await loginOptions()) });
    expect(res.statusCode).toBe(401);
  });

  it('renames and deletes only your own passkeys', async () => {
    const ann = await enrol('own-ann');
    const bob = await registerAndLogin(t, 'own-bob');
    const url = `/api/v1/auth/passkeys/${ann.passkeyId}`;
    const rename = (token: string) =>
      t.inject({ method: 'PATCH', url, headers: bearer(token), payload: { name: 'Phone' } });
    expect((await rename(bob.tokens.access_token)).statusCode).toBe(404);
    expect((await t.inject({ method: 'DELETE', url, headers: bearer(bob.tokens.access_token) })).statusCode).toBe(404);
    const renamed = await rename(ann.tokens.access_token);
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'Phone' });
    expect((await t.inject({ method: 'DELETE', url, headers: bearer(ann.tokens.access_token) })).statusCode).toBe(204);
    // Gone: it signs in no more, and the password sign-in needs no second factor.
    const res = await post('/api/v1/auth/login/passkey', { credential: ann.authenticator.get(await loginOptions()) });
    expect(res.statusCode).toBe(401);
    expect((await login(t, ann.email)).json()).toHaveProperty('access_token');
  });
});
