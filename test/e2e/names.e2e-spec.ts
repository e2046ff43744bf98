import {
  bearer,
  createTestApp,
  createTestDatabase,
  registerAndLogin,
  STRONG_PASSWORD,
  uniqueEmail,
  type TestApp,
} from '@app/testing';

const RLO = '\u202E';
const ZWSP = '\u200B';

/** Names other people see cannot hide what they say: one field rule wherever a name is set. */
describe('names that spoof', () => {
  let t: TestApp;
  let token: string;
  let orgId: string;

  beforeAll(async () => {
    // The one e2e file on an in-memory database started from the migrated archive
    // (EMBEDDED_DB_PATH=memory:// with EMBEDDED_DB_TEMPLATE); the others run in a data directory.
    t = await createTestApp({ database: await createTestDatabase({ inMemory: true }) });
    token = (await registerAndLogin(t, 'names')).tokens.access_token;
    orgId = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/organizations',
        headers: bearer(token),
        payload: { name: 'Names' },
      })
    ).json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
  });

  const send = (method: 'POST' | 'PUT' | 'PATCH', url: string, payload: object, auth = true) =>
    t.inject({ method, url: `/api/v1${url}`, headers: auth ? bearer(token) : {}, payload });
  const fieldsOf = (res: { json: <T>() => T }) =>
    res.json<{ errors?: Array<{ field: string; message: string }> }>().errors ?? [];

  it('refuses bidirectional overrides and invisible characters with a 400 naming the field', async () => {
    const cases: Array<[string, 'POST' | 'PUT' | 'PATCH', string, object, boolean?]> = [
      [
        'fullName',
        'POST',
        '/auth/register',
        { email: uniqueEmail('rlo'), password: STRONG_PASSWORD, fullName: `Ann${RLO}gpj.exe` },
        false,
      ],
      ['fullName', 'PUT', '/users/me', { fullName: `Admin${ZWSP}istrator` }],
      ['name', 'POST', '/organizations', { name: `Acme${RLO} Support` }],
      ['name', 'PUT', `/organizations/${orgId}`, { name: `\u2066Acme\u2069` }],
      ['name', 'POST', `/organizations/${orgId}/teams`, { name: `Ops\u2060` }],
      ['description', 'POST', `/organizations/${orgId}/teams`, { name: 'Ops', description: `hello${RLO}` }],
      ['name', 'POST', `/organizations/${orgId}/projects`, { name: `\u3164` }],
      ['name', 'POST', `/organizations/${orgId}/api-keys`, { name: `ro\uFEFFbot`, permissions: ['teams:read'] }],
      // Addresses are shown to other members too (member lists, invitations).
      ['email', 'POST', '/auth/register', { email: `ann${RLO}moc.evil@example.com`, password: STRONG_PASSWORD }, false],
      ['email', 'POST', `/organizations/${orgId}/invitations`, { email: `bob${ZWSP}@example.com` }],
      ['email', 'POST', '/auth/forgot-password', { email: `a@exa${RLO}mple.com` }, false],
    ];
    for (const [field, method, url, payload, auth] of cases) {
      const res = await send(method, url, payload, auth ?? true);
      expect({ url, status: res.statusCode }).toEqual({ url, status: 400 });
      expect({ url, errors: fieldsOf(res) }).toEqual({
        url,
        errors: [{ field, message: `${field} must not contain invisible or direction-changing characters` }],
      });
    }
  });

  it('accepts real names in any script, emoji sequences included, stored in NFC', async () => {
    const res = await send('PUT', '/users/me', { fullName: 'Zoe\u0308 👩‍💻 محمد' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ fullName: 'Zoë 👩‍💻 محمد' });
    expect((await send('POST', `/organizations/${orgId}/teams`, { name: 'Équipe 🚀' })).statusCode).toBe(201);
  });
});
