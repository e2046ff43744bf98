import { User } from '@app/database';
import {
  bearer,
  createTestApp,
  login,
  registerAndLogin,
  STRONG_PASSWORD,
  type TestApp,
  type Tokens,
} from '@app/testing';
import { Secret, TOTP } from 'otpauth';

const PERIOD = 30;

/** A code for a given time step (the authenticator app's side of RFC 6238). */
function codeAt(secret: string, step: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: PERIOD, algorithm: 'SHA1' }).generate({
    timestamp: step * PERIOD * 1000,
  });
}
const currentStep = () => Math.floor(Date.now() / 1000 / PERIOD);

describe('TOTP multi-factor authentication', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { LOCKOUT_THRESHOLD: '4' } });
  });
  afterAll(async () => {
    await t.close();
  });

  async function enrol(): Promise<{
    email: string;
    userId: string;
    tokens: Tokens;
    secret: string;
    recoveryCodes: string[];
  }> {
    const account = await registerAndLogin(t, 'mfa');
    const setup = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/setup',
      headers: bearer(account.tokens.access_token),
      payload: { password: STRONG_PASSWORD },
    });
    expect(setup.statusCode).toBe(201);
    const { secret, otpauthUrl, qrCode } = setup.json<{ secret: string; otpauthUrl: string; qrCode: string }>();
    expect(otpauthUrl).toMatch(/^otpauth:\/\/totp\/.*secret=/);
    expect(qrCode).toMatch(/^data:image\/png;base64,/);
    const enable = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/enable',
      headers: bearer(account.tokens.access_token),
      payload: { code: codeAt(secret, currentStep() - 1) },
    });
    expect(enable.statusCode).toBe(200);
    const { recoveryCodes } = enable.json<{ recoveryCodes: string[] }>();
    return { ...account, secret, recoveryCodes };
  }

  const loginMfa = (mfa_token: string, code: string) =>
    t.inject({ method: 'POST', url: '/api/v1/auth/login/mfa', payload: { mfa_token, code } });

  async function challenge(email: string): Promise<string> {
    const res = await login(t, email);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ mfa_required: boolean; mfa_token: string; methods: string[]; access_token?: string }>();
    expect(body).toMatchObject({ mfa_required: true, methods: ['totp', 'recovery_code'] });
    expect(body.access_token).toBeUndefined();
    return body.mfa_token;
  }

  it('stores the secret encrypted, never in clear', async () => {
    const { userId, secret } = await enrol();
    const [row] = await t.dataSource.query<Array<{ totp_secret_encrypted: string }>>(
      'SELECT totp_secret_encrypted FROM users WHERE id = $1',
      [userId],
    );
    expect(row?.totp_secret_encrypted).toMatch(/^v1\./);
    expect(row?.totp_secret_encrypted).not.toContain(secret);
  });

  it('refuses to enable with a wrong code, and reports status', async () => {
    const account = await registerAndLogin(t, 'mfa-wrong');
    await t.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/setup',
      headers: bearer(account.tokens.access_token),
      payload: { password: STRONG_PASSWORD },
    });
    const wrong = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/enable',
      headers: bearer(account.tokens.access_token),
      payload: { code: '000000' },
    });
    expect(wrong.statusCode).toBe(400);
    const malformed = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/enable',
      headers: bearer(account.tokens.access_token),
      payload: { code: '12ab' },
    });
    expect(malformed.statusCode).toBe(400);
    const status = await t.inject({
      method: 'GET',
      url: '/api/v1/auth/mfa',
      headers: bearer(account.tokens.access_token),
    });
    expect(status.json()).toEqual({ enabled: false, methods: [], recoveryCodesRemaining: 0 });
  });

  it('signs in with password then TOTP; the code cannot be replayed and the mfa_token is single use', async () => {
    const { email, secret, tokens } = await enrol();
    const status = await t.inject({ method: 'GET', url: '/api/v1/auth/mfa', headers: bearer(tokens.access_token) });
    expect(status.json()).toEqual({ enabled: true, methods: ['totp', 'recovery_code'], recoveryCodesRemaining: 10 });
    const mfaToken = await challenge(email);
    const code = codeAt(secret, currentStep());
    const ok = await loginMfa(mfaToken, code);
    expect(ok.statusCode).toBe(200);
    expect(ok.json<Tokens>().token_type).toBe('Bearer');
    // Same mfa_token again: dead.
    expect((await loginMfa(mfaToken, code)).statusCode).toBe(401);
    // Same code with a fresh challenge: replay refused.
    expect((await loginMfa(await challenge(email), code)).statusCode).toBe(401);
  });

  it('a wrong code burns the mfa_token', async () => {
    const { email, secret } = await enrol();
    const mfaToken = await challenge(email);
    expect((await loginMfa(mfaToken, '000000')).statusCode).toBe(401);
    expect((await loginMfa(mfaToken, codeAt(secret, currentStep()))).statusCode).toBe(401);
  });

  it('signs in with a recovery code, once', async () => {
    const { email, recoveryCodes, tokens } = await enrol();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    const code = recoveryCodes[0] ?? '';
    expect((await loginMfa(await challenge(email), code.toUpperCase())).statusCode).toBe(200);
    expect((await loginMfa(await challenge(email), code)).statusCode).toBe(401);
    const status = await t.inject({ method: 'GET', url: '/api/v1/auth/mfa', headers: bearer(tokens.access_token) });
    expect(status.json()).toMatchObject({ recoveryCodesRemaining: 9 });
  });

  it('regenerates recovery codes with the password; old ones stop working', async () => {
    const { email, recoveryCodes, tokens } = await enrol();
    const url = '/api/v1/auth/mfa/recovery-codes';
    expect(
      (
        await t.inject({
          method: 'POST',
          url,
          headers: bearer(tokens.access_token),
          payload: { password: 'wrong-password' },
        })
      ).statusCode,
    ).toBe(400);
    const res = await t.inject({
      method: 'POST',
      url,
      headers: bearer(tokens.access_token),
      payload: { password: STRONG_PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const fresh = res.json<{ recoveryCodes: string[] }>().recoveryCodes;
    expect(fresh).toHaveLength(10);
    expect((await loginMfa(await challenge(email), recoveryCodes[1] ?? '')).statusCode).toBe(401);
    expect((await loginMfa(await challenge(email), fresh[0] ?? '')).statusCode).toBe(200);
  });

  it('disables only with the password and a valid code', async () => {
    const { email, secret, tokens } = await enrol();
    const url = '/api/v1/auth/mfa/totp/disable';
    const headers = bearer(tokens.access_token);
    expect(
      (
        await t.inject({
          method: 'POST',
          url,
          headers,
          payload: { password: 'wrong', code: codeAt(secret, currentStep()) },
        })
      ).statusCode,
    ).toBe(400);
    expect(
      (await t.inject({ method: 'POST', url, headers, payload: { password: STRONG_PASSWORD, code: '000000' } }))
        .statusCode,
    ).toBe(400);
    const ok = await t.inject({
      method: 'POST',
      url,
      headers,
      payload: { password: STRONG_PASSWORD, code: codeAt(secret, currentStep() + 1) },
    });
    expect(ok.statusCode).toBe(204);
    const res = await login(t, email);
    expect(res.json<Tokens>().access_token).toBeDefined();
    const user = await t.dataSource.getRepository(User).findOneByOrFail({ email });
    expect(user).toMatchObject({ mfaEnabled: false, totpSecretEncrypted: null, recoveryCodeHashes: [] });
  });

  it('wrong second factors count toward lockout', async () => {
    const { email } = await enrol();
    for (let attempt = 0; attempt < 4; attempt++) {
      expect((await loginMfa(await challenge(email), '000000')).statusCode).toBe(401);
    }
    // Locked: the password step now fails like any failure, even with a right password.
    expect((await login(t, email)).statusCode).toBe(401);
  });

  it('refuses to set up again while enabled', async () => {
    const { tokens } = await enrol();
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/setup',
      headers: bearer(tokens.access_token),
      payload: { password: STRONG_PASSWORD },
    });
    expect(res.statusCode).toBe(409);
  });

  it('enrolment needs the password, so a stolen access token alone cannot add a factor', async () => {
    const { tokens } = await registerAndLogin(t, 'mfa-steal');
    const url = '/api/v1/auth/mfa/totp/setup';
    const none = await t.inject({ method: 'POST', url, headers: bearer(tokens.access_token), payload: {} });
    expect(none.statusCode).toBe(400);
    const wrong = await t.inject({
      method: 'POST',
      url,
      headers: bearer(tokens.access_token),
      payload: { password: 'guess-guess-guess' },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ errors: [{ field: 'password' }] });
  });

  it('recovery codes are long (about 99 bits) and stored keyed, not as their plain hash', async () => {
    const { userId, recoveryCodes } = await enrol();
    expect(recoveryCodes[0]).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    const user = await t.dataSource.getRepository(User).findOneByOrFail({ id: userId });
    const { createHash } = await import('node:crypto');
    const plain = createHash('sha256')
      .update((recoveryCodes[0] ?? '').replace(/-/g, ''))
      .digest('hex');
    expect(user.recoveryCodeHashes).toHaveLength(10);
    expect(user.recoveryCodeHashes).not.toContain(plain);
  });
});
