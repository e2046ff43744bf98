import { DOMParser } from '@xmldom/xmldom';
import { randomUUID, X509Certificate } from 'node:crypto';
import * as samlify from 'samlify';
import { startSamlIdp, type SamlIdp } from '../../../test/support/saml-idp';
import {
  MemorySamlStateStore,
  parseIdpMetadata,
  SamlRefusal,
  SamlServiceProvider,
  serviceProviderMetadata,
  type SamlRefusalCode,
} from './index';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';

let idp: SamlIdp;
beforeAll(async () => {
  idp = await startSamlIdp();
});

function refusalCode(run: () => unknown): SamlRefusalCode {
  try {
    run();
  } catch (error) {
    if (error instanceof SamlRefusal) return error.code;
    throw error;
  }
  throw new Error('expected a SamlRefusal');
}

function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

describe('parseIdpMetadata', () => {
  it("reads a real IdP's metadata: entity id, HTTP-Redirect SSO URL, signing certificate", () => {
    const metadata = parseIdpMetadata(idp.metadataXml);
    expect(metadata.entityId).toBe(idp.entityId);
    expect(metadata.ssoUrl).toBe(idp.ssoUrl);
    expect(metadata.certificates.map(fingerprint)).toEqual([fingerprint(idp.certificatePem)]);
    expect(metadata.certificates[0]).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });

  it('gives settings a sign-in works with', async () => {
    const metadata = parseIdpMetadata(idp.metadataXml);
    const id = randomUUID();
    const settings = {
      connectionId: id,
      idpEntityId: metadata.entityId,
      idpSsoUrl: metadata.ssoUrl,
      idpCertificates: metadata.certificates,
      spEntityId: `https://app.example.test/api/v1/sso/saml/${id}/metadata`,
      acsUrl: `https://app.example.test/api/v1/sso/saml/${id}/acs`,
      allowIdpInitiated: false,
    };
    const sp = new SamlServiceProvider(new MemorySamlStateStore());
    const { url } = await sp.authorizeUrl(settings, '');
    const request = await idp.parseAuthnRequest(url);
    const response = await idp.respond({
      spEntityId: request.issuer,
      acsUrl: request.acsUrl,
      inResponseTo: request.id,
      nameId: 'ada@acme.test',
    });
    await expect(sp.validate(settings, response)).resolves.toMatchObject({ email: 'ada@acme.test' });
  });

  it('accepts an EntitiesDescriptor holding one IdP, and keeps every signing certificate of a rotation', async () => {
    const next = await startSamlIdp();
    const signingKey = (pem: string) =>
      `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${pem
        .replace(/-----[A-Z ]+-----/g, '')
        .trim()}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
    const xml =
      `<md:EntitiesDescriptor xmlns:md="${MD}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">` +
      `<md:EntityDescriptor entityID="https://sp.example.test"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>` +
      `<md:EntityDescriptor entityID="https://idp.example.test">` +
      `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
      signingKey(idp.certificatePem) +
      signingKey(next.certificatePem) +
      `<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${'AAAA'}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
      `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.test/post"/>` +
      `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.test/redirect"/>` +
      `</md:IDPSSODescriptor></md:EntityDescriptor></md:EntitiesDescriptor>`;
    const metadata = parseIdpMetadata(xml);
    expect(metadata.entityId).toBe('https://idp.example.test');
    expect(metadata.ssoUrl).toBe('https://idp.example.test/redirect');
    expect(metadata.certificates.map(fingerprint)).toEqual([
      fingerprint(idp.certificatePem),
      fingerprint(next.certificatePem),
    ]);
  });

  it('refuses metadata without a signing certificate', () => {
    const xml = idp.metadataXml.replace(/<(\w+:)?KeyDescriptor[\s\S]*?<\/(\w+:)?KeyDescriptor>/g, '');
    expect(xml).not.toContain('X509Certificate');
    expect(refusalCode(() => parseIdpMetadata(xml))).toBe('malformed');
  });

  it('refuses metadata whose only key is for encryption', () => {
    const xml = idp.metadataXml.replace(/use="signing"/g, 'use="encryption"');
    expect(refusalCode(() => parseIdpMetadata(xml))).toBe('malformed');
  });

  it('refuses a certificate that is not one', () => {
    const xml = idp.metadataXml.replace(
      /(<(?:\w+:)?X509Certificate>)[^<]+/,
      `$1${Buffer.from('not a certificate').toString('base64')}`,
    );
    expect(refusalCode(() => parseIdpMetadata(xml))).toBe('malformed');
  });

  it('refuses metadata without an HTTP-Redirect SingleSignOnService', () => {
    const xml = idp.metadataXml.replace(/Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"/g, 'Binding="x"');
    expect(refusalCode(() => parseIdpMetadata(xml))).toBe('malformed');
  });

  it.each([
    ['an external entity', '<!DOCTYPE md:EntityDescriptor [<!ENTITY x SYSTEM "file:///etc/passwd">]>'],
    ['entity expansion', '<!DOCTYPE md:EntityDescriptor [<!ENTITY a "a"><!ENTITY b "&a;&a;&a;&a;">]>'],
    ['a bare DOCTYPE', '<!DOCTYPE md:EntityDescriptor>'],
  ])('refuses a DOCTYPE (%s)', (_label, doctype) => {
    const xml = idp.metadataXml.replace(/^(<\?xml[^>]*\?>)?/, `$1${doctype}`);
    expect(refusalCode(() => parseIdpMetadata(xml))).toBe('dtd-forbidden');
  });

  it.each([
    ['empty', () => ''],
    ['not XML', () => 'this is not metadata'],
    ['truncated', () => idp.metadataXml.slice(0, idp.metadataXml.length / 2)],
    ['another document', () => '<html><body>Sign in</body></html>'],
    [
      'SP metadata',
      () => serviceProviderMetadata({ spEntityId: 'https://sp.example.test', acsUrl: 'https://sp.example.test/acs' }),
    ],
    ['no entityID', () => idp.metadataXml.replace(/entityID="[^"]*"/, '')],
  ])('refuses garbage: %s', (_label, xml) => {
    expect(refusalCode(() => parseIdpMetadata(xml()))).toBe('malformed');
  });

  it('refuses metadata over the size limit', () => {
    const xml = idp.metadataXml.replace('</', `<!--${'x'.repeat(600 * 1024)}--></`);
    expect(refusalCode(() => parseIdpMetadata(xml))).toBe('too-large');
  });
});

describe('serviceProviderMetadata', () => {
  const settings = {
    spEntityId: 'https://app.example.test/api/v1/sso/saml/c1/metadata',
    acsUrl: 'https://app.example.test/api/v1/sso/saml/c1/acs',
  };

  it('describes the SP: entityID, HTTP-POST ACS, emailAddress NameID, signed assertions wanted', () => {
    const doc = new DOMParser().parseFromString(serviceProviderMetadata(settings), 'text/xml');
    const root = doc.documentElement;
    expect(root.localName).toBe('EntityDescriptor');
    expect(root.getAttribute('entityID')).toBe(settings.spEntityId);
    const descriptor = doc.getElementsByTagNameNS(MD, 'SPSSODescriptor')[0]!;
    expect(descriptor.getAttribute('WantAssertionsSigned')).toBe('true');
    expect(descriptor.getAttribute('AuthnRequestsSigned')).toBe('false');
    const acs = doc.getElementsByTagNameNS(MD, 'AssertionConsumerService')[0]!;
    expect(acs.getAttribute('Binding')).toBe('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    expect(acs.getAttribute('Location')).toBe(settings.acsUrl);
    expect(doc.getElementsByTagNameNS(MD, 'NameIDFormat')[0]?.textContent).toBe(
      'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    );
  });

  it('is read by another SAML implementation (samlify) as the same SP', () => {
    const sp = samlify.ServiceProvider({ metadata: serviceProviderMetadata(settings) });
    expect(sp.entityMeta.getEntityID()).toBe(settings.spEntityId);
    expect(sp.entityMeta.getAssertionConsumerService('post')).toBe(settings.acsUrl);
    expect(sp.entityMeta.isWantAssertionsSigned()).toBe(true);
  });
});
