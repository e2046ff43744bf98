import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { randomUUID } from 'node:crypto';
import {
  authnRequestXml,
  decodeResponse,
  editXml,
  encodeResponse,
  startSamlIdp,
  stripSignatures,
  withDoctype,
  wrapSignature,
  type SamlIdp,
  type SamlIdpResponse,
} from '../../../test/support/saml-idp';
import {
  MemorySamlStateStore,
  SamlRefusal,
  SamlServiceProvider,
  type SamlConnectionSettings,
  type SamlProfile,
  type SamlRefusalCode,
} from './index';

const APP_URL = 'https://app.example.test';
const MINUTE = 60_000;
const ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';

let idp: SamlIdp;
/** Same entity id, its own key: what an attacker without the IdP's key can sign. */
let impostor: SamlIdp;
let store: MemorySamlStateStore;
let sp: SamlServiceProvider;

beforeAll(async () => {
  idp = await startSamlIdp();
  impostor = await startSamlIdp({ entityId: idp.entityId, ssoUrl: idp.ssoUrl });
});

beforeEach(() => {
  store = new MemorySamlStateStore();
  sp = new SamlServiceProvider(store);
});

function connection(overrides: Partial<SamlConnectionSettings> = {}): SamlConnectionSettings {
  const connectionId = randomUUID();
  return {
    connectionId,
    idpEntityId: idp.entityId,
    idpSsoUrl: idp.ssoUrl,
    idpCertificates: [idp.certificatePem],
    spEntityId: `${APP_URL}/api/v1/sso/saml/${connectionId}/metadata`,
    acsUrl: `${APP_URL}/api/v1/sso/saml/${connectionId}/acs`,
    allowIdpInitiated: false,
    ...overrides,
  };
}

type ResponseExtras = Partial<Omit<SamlIdpResponse, 'spEntityId' | 'acsUrl' | 'inResponseTo'>>;

/** Starts a sign-in at the SP, has the IdP read the AuthnRequest and answer it. */
async function answeredRequest(
  settings: SamlConnectionSettings,
  extras: ResponseExtras = {},
  from: SamlIdp = idp,
): Promise<{ response: string; requestId: string }> {
  const { url, requestId } = await sp.authorizeUrl(settings, 'relay-1');
  const request = await idp.parseAuthnRequest(url);
  const response = await from.respond({
    spEntityId: request.issuer,
    acsUrl: request.acsUrl,
    inResponseTo: request.id,
    nameId: 'ada@acme.test',
    ...extras,
  });
  return { response, requestId };
}

async function refusalOf(promise: Promise<unknown>): Promise<SamlRefusal> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SamlRefusal) return error;
    throw error;
  }
  throw new Error('expected a SamlRefusal, the response was accepted');
}

async function expectRefused(promise: Promise<SamlProfile>, code: SamlRefusalCode): Promise<SamlRefusal> {
  const refusal = await refusalOf(promise);
  expect(refusal.code).toBe(code);
  return refusal;
}

describe('SamlServiceProvider: the good paths', () => {
  it('completes an SP-initiated sign-in: AuthnRequest out, signed Response in, profile with attributes', async () => {
    const settings = connection();
    const { url, requestId } = await sp.authorizeUrl(settings, 'relay-1');
    const target = new URL(url);
    expect(`${target.origin}${target.pathname}`).toBe(idp.ssoUrl);
    expect(target.searchParams.get('RelayState')).toBe('relay-1');

    const request = await idp.parseAuthnRequest(url);
    expect(request).toMatchObject({
      id: requestId,
      issuer: settings.spEntityId,
      acsUrl: settings.acsUrl,
      destination: idp.ssoUrl,
      nameIdPolicyFormat: null,
    });
    expect(authnRequestXml(url)).not.toContain('RequestedAuthnContext');

    const response = await idp.respond({
      spEntityId: request.issuer,
      acsUrl: request.acsUrl,
      inResponseTo: request.id,
      nameId: 'ada@acme.test',
      sessionIndex: '_session-7',
      attributes: {
        givenName: 'Ada',
        sn: 'Lovelace',
        displayName: 'Ada Lovelace',
        groups: ['engineering', 'admins'],
      },
    });
    const profile = await sp.validate(settings, response);
    expect(profile).toMatchObject({
      nameId: 'ada@acme.test',
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      email: 'ada@acme.test',
      firstName: 'Ada',
      lastName: 'Lovelace',
      displayName: 'Ada Lovelace',
      issuer: idp.entityId,
      inResponseTo: requestId,
      sessionIndex: '_session-7',
    });
    expect(profile.assertionId).toMatch(/^_/);
    expect({ ...profile.attributes }).toEqual({
      givenName: ['Ada'],
      sn: ['Lovelace'],
      displayName: ['Ada Lovelace'],
      groups: ['engineering', 'admins'],
    });
  });

  it.each(['assertion', 'response', 'both'] as const)('accepts a response signed on: %s', async (sign) => {
    const settings = connection();
    const { response } = await answeredRequest(settings, { sign });
    await expect(sp.validate(settings, response)).resolves.toMatchObject({ nameId: 'ada@acme.test' });
  });

  it('takes the email from the usual attributes when the NameID is not an email', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, {
      nameId: 'a1b2c3',
      nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      attributes: { 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': 'grace@acme.test' },
    });
    const profile = await sp.validate(settings, response);
    expect(profile.nameId).toBe('a1b2c3');
    expect(profile.email).toBe('grace@acme.test');
  });

  it('verifies with any of several certificates (rotation: the second one signed)', async () => {
    const settings = connection({ idpCertificates: [impostor.certificatePem, idp.certificatePem] });
    const { response } = await answeredRequest(settings);
    await expect(sp.validate(settings, response)).resolves.toMatchObject({ nameId: 'ada@acme.test' });
  });

  it('accepts base64 wrapped over lines, and a re-serialised but unchanged response', async () => {
    const settings = connection({ allowIdpInitiated: true });
    const wrapped = await idp.respond({
      spEntityId: settings.spEntityId,
      acsUrl: settings.acsUrl,
      nameId: 'a@acme.test',
    });
    await expect(sp.validate(settings, wrapped.replace(/(.{76})/g, '$1\r\n'))).resolves.toBeDefined();
    // The tampering helpers parse and serialise: on their own they must not break the signature,
    // or the attack tests below would prove nothing.
    const untouched = editXml(
      await idp.respond({ spEntityId: settings.spEntityId, acsUrl: settings.acsUrl, nameId: 'b@acme.test' }),
      () => undefined,
    );
    await expect(sp.validate(settings, untouched)).resolves.toMatchObject({ nameId: 'b@acme.test' });
  });

  it('accepts an IdP-initiated response when the connection allows it', async () => {
    const settings = connection({ allowIdpInitiated: true });
    const response = await idp.respond({
      spEntityId: settings.spEntityId,
      acsUrl: settings.acsUrl,
      nameId: 'ada@acme.test',
    });
    await expect(sp.validate(settings, response)).resolves.toMatchObject({
      nameId: 'ada@acme.test',
      inResponseTo: null,
    });
  });

  it("keeps the replay record until the assertion's end plus the skew, never longer than its maximum age", async () => {
    const ttls: number[] = [];
    const recording = new MemorySamlStateStore();
    const firstUse = recording.firstUse.bind(recording);
    recording.firstUse = (key, ttlMs) => {
      ttls.push(ttlMs);
      return firstUse(key, ttlMs);
    };
    const provider = new SamlServiceProvider(recording);
    const settings = connection({ allowIdpInitiated: true });
    const base = { spEntityId: settings.spEntityId, acsUrl: settings.acsUrl, nameId: 'ada@acme.test' };
    await provider.validate(settings, await idp.respond({ ...base, notOnOrAfter: new Date(Date.now() + 3 * MINUTE) }));
    await provider.validate(
      settings,
      await idp.respond({ ...base, notOnOrAfter: new Date(Date.now() + 120 * MINUTE) }),
    );
    expect(ttls[0]).toBeGreaterThan(3.9 * MINUTE);
    expect(ttls[0]).toBeLessThanOrEqual(4 * MINUTE);
    expect(ttls[1]).toBeGreaterThan(10.9 * MINUTE);
    expect(ttls[1]).toBeLessThanOrEqual(11 * MINUTE);
  });

  it('refuses a RelayState over the 80 bytes SAML allows', async () => {
    await expect(sp.authorizeUrl(connection(), 'x'.repeat(81))).rejects.toThrow(RangeError);
  });
});

describe('SamlServiceProvider: attacks and bad responses', () => {
  it('refuses an IdP-initiated response unless the connection allows it', async () => {
    const settings = connection();
    const response = await idp.respond({
      spEntityId: settings.spEntityId,
      acsUrl: settings.acsUrl,
      nameId: 'ada@acme.test',
    });
    await expectRefused(sp.validate(settings, response), 'idp-initiated-disabled');
  });

  it('refuses an unsigned response', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, { sign: 'none' });
    await expectRefused(sp.validate(settings, response), 'unsigned');
  });

  it('refuses a response-signed message whose signature was stripped', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, { sign: 'response' });
    await expectRefused(sp.validate(settings, stripSignatures(response)), 'unsigned');
  });

  it.each(['extensions', 'sibling', 'nested', 'same-id'] as const)(
    'refuses signature wrapping (%s): a forged assertion next to the signed one',
    async (variant) => {
      const settings = connection();
      const { response } = await answeredRequest(settings);
      const forged = wrapSignature(response, 'mallory@evil.test', variant);
      expect(decodeResponse(forged)).toContain('mallory@evil.test');
      await expectRefused(sp.validate(settings, forged), 'bad-signature');
    },
  );

  it('refuses signature wrapping of a response-signed message', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, { sign: 'response' });
    await expectRefused(sp.validate(settings, wrapSignature(response, 'mallory@evil.test')), 'bad-signature');
  });

  it('refuses a signed assertion whose NameID was edited', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings);
    const edited = editXml(response, (doc) => {
      doc.getElementsByTagNameNS(ASSERTION_NS, 'NameID')[0]!.textContent = 'mallory@evil.test';
    });
    await expectRefused(sp.validate(settings, edited), 'bad-signature');
  });

  it('reads the whole NameID when a comment is slipped into it (canonicalization ignores comments)', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, { nameId: 'ada@acme.test.evil.test' });
    const split = editXml(response, (doc) => {
      const nameId = doc.getElementsByTagNameNS(ASSERTION_NS, 'NameID')[0]!;
      nameId.textContent = 'ada@acme.test';
      nameId.appendChild(doc.createComment('x'));
      nameId.appendChild(doc.createTextNode('.evil.test'));
    });
    const profile = await sp.validate(settings, split);
    expect(profile.nameId).toBe('ada@acme.test.evil.test');
    expect(profile.email).toBe('ada@acme.test.evil.test');
  });

  it.each(['assertion', 'response'] as const)(
    'refuses a response signed (%s) by another key, its certificate embedded in KeyInfo',
    async (sign) => {
      const settings = connection();
      const { response } = await answeredRequest(settings, { sign }, impostor);
      expect(decodeResponse(response)).toContain('X509Certificate');
      await expectRefused(sp.validate(settings, response), 'bad-signature');
    },
  );

  it('refuses an assertion for another audience', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, { audience: 'https://other-sp.example.test/metadata' });
    await expectRefused(sp.validate(settings, response), 'wrong-audience');
  });

  it('refuses a bearer confirmation for another ACS (Recipient)', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, { recipient: 'https://other-sp.example.test/acs' });
    await expectRefused(sp.validate(settings, response), 'wrong-recipient');
  });

  it('refuses a response addressed to another endpoint (Destination)', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, { destination: 'https://other-sp.example.test/acs' });
    await expectRefused(sp.validate(settings, response), 'wrong-recipient');
  });

  it('refuses a response from the right key naming another issuer', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, { issuer: 'https://another-tenant-idp.example.test' });
    await expectRefused(sp.validate(settings, response), 'wrong-issuer');
  });

  it('refuses a signed assertion naming another issuer under a right Response issuer', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, {
      assertionIssuer: 'https://another-tenant-idp.example.test',
    });
    const refusal = await expectRefused(sp.validate(settings, response), 'wrong-issuer');
    expect(refusal.message).toMatch(/^assertion issuer/);
  });

  it('refuses an expired assertion (NotOnOrAfter beyond the skew)', async () => {
    const settings = connection();
    const now = Date.now();
    const { response } = await answeredRequest(settings, {
      issueInstant: new Date(now - 8 * MINUTE),
      notBefore: new Date(now - 8 * MINUTE),
      notOnOrAfter: new Date(now - 5 * MINUTE),
    });
    await expectRefused(sp.validate(settings, response), 'expired');
  });

  it('accepts an assertion expired by less than the clock skew', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, { notOnOrAfter: new Date(Date.now() - 20_000) });
    await expect(sp.validate(settings, response)).resolves.toBeDefined();
  });

  it('refuses an assertion not yet valid (NotBefore beyond the skew)', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, {
      notBefore: new Date(Date.now() + 5 * MINUTE),
      notOnOrAfter: new Date(Date.now() + 10 * MINUTE),
    });
    await expectRefused(sp.validate(settings, response), 'not-yet-valid');
  });

  it('refuses an assertion issued too long ago, whatever its NotOnOrAfter', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, {
      issueInstant: new Date(Date.now() - 30 * MINUTE),
      notBefore: new Date(Date.now() - 30 * MINUTE),
      notOnOrAfter: new Date(Date.now() + 60 * MINUTE),
    });
    await expectRefused(sp.validate(settings, response), 'expired');
  });

  it('refuses an answer to a request it never sent', async () => {
    const settings = connection();
    const response = await idp.respond({
      spEntityId: settings.spEntityId,
      acsUrl: settings.acsUrl,
      inResponseTo: '_never-sent',
      nameId: 'ada@acme.test',
    });
    await expectRefused(sp.validate(settings, response), 'unknown-request');
  });

  it('takes a request id once: a second, fresh answer to it is refused', async () => {
    const settings = connection();
    const { response, requestId } = await answeredRequest(settings);
    await sp.validate(settings, response);
    const second = await idp.respond({
      spEntityId: settings.spEntityId,
      acsUrl: settings.acsUrl,
      inResponseTo: requestId,
      nameId: 'ada@acme.test',
    });
    await expectRefused(sp.validate(settings, second), 'unknown-request');
  });

  it("refuses an answer to another connection's request", async () => {
    const a = connection();
    const b = connection();
    const { requestId } = await sp.authorizeUrl(a, '');
    const response = await idp.respond({
      spEntityId: b.spEntityId,
      acsUrl: b.acsUrl,
      inResponseTo: requestId,
      nameId: 'ada@acme.test',
    });
    await expectRefused(sp.validate(b, response), 'unknown-request');
  });

  it('refuses an unsigned Response InResponseTo that differs from the signed one', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings);
    const { requestId: other } = await sp.authorizeUrl(settings, '');
    const edited = editXml(response, (doc) => doc.documentElement.setAttribute('InResponseTo', other));
    await expectRefused(sp.validate(settings, edited), 'unknown-request');
  });

  it('refuses a replayed assertion (SP-initiated)', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings);
    await sp.validate(settings, response);
    await expectRefused(sp.validate(settings, response), 'replayed');
  });

  it('refuses a replayed assertion (IdP-initiated), also when posted concurrently', async () => {
    const settings = connection({ allowIdpInitiated: true });
    const response = await idp.respond({
      spEntityId: settings.spEntityId,
      acsUrl: settings.acsUrl,
      nameId: 'ada@acme.test',
    });
    const results = await Promise.allSettled([sp.validate(settings, response), sp.validate(settings, response)]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    await expectRefused(sp.validate(settings, response), 'replayed');
  });

  it.each(['xxe', 'billion-laughs'] as const)('refuses a DOCTYPE (%s) before parsing', async (kind) => {
    const settings = connection();
    const { response } = await answeredRequest(settings);
    const hostile = withDoctype(response, kind);
    expect(decodeResponse(hostile)).toContain('&xxe;');
    await expectRefused(sp.validate(settings, hostile), 'dtd-forbidden');
  });

  it.each([
    ['not base64', '%%%not-base64%%%'],
    ['bad padding', 'PHNhbWxw='],
    ['empty', ''],
    ['not UTF-8', Buffer.from([0xff, 0xfe, 0x3c, 0x00]).toString('base64')],
    ['not XML', encodeResponse('hello, not xml')],
    ['not a Response', encodeResponse('<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>')],
  ])('refuses a malformed message: %s', async (_label, value) => {
    await expectRefused(sp.validate(connection(), value), 'malformed');
  });

  it('refuses a message over the size limit before decoding it', async () => {
    const small = new SamlServiceProvider(store, { maxResponseBytes: 4096 });
    const settings = connection();
    const { response } = await answeredRequest(settings, { attributes: { padding: 'x'.repeat(5000) } });
    await expectRefused(small.validate(settings, response), 'too-large');
  });

  it('refuses a response whose status is not Success, even with a signed assertion inside', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, { status: 'urn:oasis:names:tc:SAML:2.0:status:Responder' });
    await expectRefused(sp.validate(settings, response), 'status-not-success');
  });

  it('refuses an encrypted assertion (no decryption key is configured)', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings);
    const encrypted = editXml(response, (doc) => {
      const assertion = doc.getElementsByTagNameNS(ASSERTION_NS, 'Assertion')[0]!;
      const replacement = doc.createElementNS(ASSERTION_NS, 'saml:EncryptedAssertion');
      replacement.appendChild(doc.createElementNS('http://www.w3.org/2001/04/xmlenc#', 'xenc:EncryptedData'));
      doc.documentElement.replaceChild(replacement, assertion);
    });
    await expectRefused(sp.validate(settings, encrypted), 'encrypted-assertion');
  });

  it('keeps node-saml wording out of the code and in the message', async () => {
    const settings = connection();
    const { response } = await answeredRequest(settings, {}, impostor);
    const refusal = await expectRefused(sp.validate(settings, response), 'bad-signature');
    expect(refusal.message).toMatch(/^node-saml: /);
  });
});

/**
 * What node-saml 5.1, configured strictly, lets through on its own: the reason SamlServiceProvider
 * checks these itself. If a node-saml upgrade starts refusing one of them, this test says so.
 */
describe('node-saml alone (why the service provider checks more)', () => {
  function strictNodeSaml(settings: SamlConnectionSettings): SAML {
    return new SAML({
      issuer: settings.spEntityId,
      callbackUrl: settings.acsUrl,
      audience: settings.spEntityId,
      idpIssuer: settings.idpEntityId,
      idpCert: settings.idpCertificates,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: false,
      validateInResponseTo: ValidateInResponseTo.never,
    });
  }

  it('accepts a wrong Destination and Recipient, a wrong issuer, a failed status, and a replay', async () => {
    const settings = connection({ allowIdpInitiated: true });
    const saml = strictNodeSaml(settings);
    const base = { spEntityId: settings.spEntityId, acsUrl: settings.acsUrl, nameId: 'ada@acme.test' };
    const misdirected = await idp.respond({
      ...base,
      destination: 'https://other.example.test/acs',
      recipient: 'https://other.example.test/acs',
    });
    const otherIssuer = await idp.respond({ ...base, issuer: 'https://someone-else.example.test' });
    const failed = await idp.respond({ ...base, status: 'urn:oasis:names:tc:SAML:2.0:status:Requester' });
    for (const response of [misdirected, otherIssuer, failed, failed]) {
      const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: response });
      expect(profile?.nameID).toBe('ada@acme.test');
    }
    for (const response of [misdirected, otherIssuer, failed]) {
      await expect(sp.validate(settings, response)).rejects.toBeInstanceOf(SamlRefusal);
    }
  });

  it('accepts a DOCTYPE (xmldom ignores it and expands no entity; a reference fails as "entity not found")', async () => {
    const settings = connection({ allowIdpInitiated: true });
    const genuine = await idp.respond({
      spEntityId: settings.spEntityId,
      acsUrl: settings.acsUrl,
      nameId: 'ada@acme.test',
    });
    const declared = encodeResponse(`<!DOCTYPE samlp:Response [<!ENTITY unused "x">]>${decodeResponse(genuine)}`);
    await expect(strictNodeSaml(settings).validatePostResponseAsync({ SAMLResponse: declared })).resolves.toBeDefined();
    await expect(
      strictNodeSaml(settings).validatePostResponseAsync({ SAMLResponse: withDoctype(genuine, 'xxe') }),
    ).rejects.toThrow(/entity not found/);
    await expectRefused(sp.validate(settings, declared), 'dtd-forbidden');
  });

  // The service provider refuses these before node-saml sees them; node-saml refusing them too
  // is the second layer.
  it.each(['extensions', 'sibling', 'nested', 'same-id'] as const)(
    'refuses signature wrapping (%s) by itself too',
    async (variant) => {
      const settings = connection({ allowIdpInitiated: true });
      const genuine = await idp.respond({
        spEntityId: settings.spEntityId,
        acsUrl: settings.acsUrl,
        nameId: 'ada@acme.test',
      });
      await expect(
        strictNodeSaml(settings).validatePostResponseAsync({ SAMLResponse: genuine }),
      ).resolves.toMatchObject({ profile: { nameID: 'ada@acme.test' } });
      const forged = wrapSignature(genuine, 'mallory@evil.test', variant);
      await expect(strictNodeSaml(settings).validatePostResponseAsync({ SAMLResponse: forged })).rejects.toThrow();
    },
  );
});
