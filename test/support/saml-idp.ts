import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import * as samlify from 'samlify';

/**
 * A real SAML 2.0 identity provider for tests: samlify's IdentityProvider with a throwaway RSA key
 * and self-signed certificate made by openssl for each IdP. It builds and signs Responses (samlify
 * signs them; the XML comes from our own template so that every field can be set, including wrong
 * ones), reads the AuthnRequests a service provider redirects to it, and produces the classic
 * attack variants from a genuine signed response.
 *
 * For a response signed by a different key, start a second IdP with the same entity id:
 * `startSamlIdp({ entityId: idp.entityId })`.
 */

// samlify refuses to parse anything until a schema validator is registered. This IdP only reads
// AuthnRequests made by the code under test, so a permissive validator is enough here; the
// production SP side does not use samlify at all. Registered when the first IdP starts, not when
// this module loads: every e2e file imports the test-support barrel, and under Jest's lazy package
// imports a top-level call would load samlify and its XML stack (~60 modules) in files without SAML.
let validatorRegistered = false;
function registerPermissiveValidator(): void {
  if (validatorRegistered) return;
  samlify.setSchemaValidator({ validate: () => Promise.resolve('not validated (test IdP)') });
  validatorRegistered = true;
}

const run = promisify(execFile);

const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
};
const BINDING_POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const BINDING_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
export const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
export const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

export type SamlSigning = 'assertion' | 'response' | 'both' | 'none';

export interface SamlIdpOptions {
  entityId?: string;
  ssoUrl?: string;
}

export interface SamlIdpResponse {
  spEntityId: string;
  acsUrl: string;
  /** Absent: an IdP-initiated (unsolicited) response. */
  inResponseTo?: string;
  nameId: string;
  nameIdFormat?: string;
  attributes?: Record<string, string | string[]>;
  /** Conditions/@NotBefore; default: now. */
  notBefore?: Date;
  /** Conditions/@NotOnOrAfter and SubjectConfirmationData/@NotOnOrAfter; default: now + 5 minutes. */
  notOnOrAfter?: Date;
  /** Response and Assertion IssueInstant; default: now. */
  issueInstant?: Date;
  /** Default: 'assertion'. 'none' signs the assertion, then removes the signature. */
  sign?: SamlSigning;
  /** Default: spEntityId. */
  audience?: string;
  /** SubjectConfirmationData/@Recipient; default: acsUrl. */
  recipient?: string;
  /** Response/@Destination; default: acsUrl; null leaves it out. */
  destination?: string | null;
  /** Issuer of the Response and the Assertion; default: the IdP's entity id. */
  issuer?: string;
  /** Issuer of the Assertion alone; default: `issuer`. */
  assertionIssuer?: string;
  /** Top-level StatusCode; default: Success. */
  status?: string;
  sessionIndex?: string;
  assertionId?: string;
}

export interface ParsedAuthnRequest {
  id: string;
  issuer: string;
  acsUrl: string;
  destination: string;
  relayState: string | null;
  nameIdPolicyFormat: string | null;
}

export interface SamlIdp {
  entityId: string;
  ssoUrl: string;
  metadataXml: string;
  certificatePem: string;
  /** Builds a Response to the SP, signed as asked; returns it base64-encoded (the SAMLResponse form field). */
  respond(options: SamlIdpResponse): Promise<string>;
  /** Reads the AuthnRequest out of the SP's HTTP-Redirect URL (samlify parses it, as the IdP would). */
  parseAuthnRequest(redirectUrl: string): Promise<ParsedAuthnRequest>;
}

export async function startSamlIdp(options: SamlIdpOptions = {}): Promise<SamlIdp> {
  registerPermissiveValidator();
  const entityId = options.entityId ?? `https://idp-${randomBytes(4).toString('hex')}.example.test/saml`;
  const ssoUrl = options.ssoUrl ?? `${entityId}/sso`;
  const { privateKeyPem, certificatePem } = await selfSignedCertificate();
  const idp = samlify.IdentityProvider({
    entityID: entityId,
    privateKey: privateKeyPem,
    signingCert: certificatePem,
    nameIDFormat: [NAMEID_EMAIL],
    wantAuthnRequestsSigned: false,
    singleSignOnService: [
      { Binding: BINDING_REDIRECT, Location: ssoUrl },
      { Binding: BINDING_POST, Location: ssoUrl },
    ],
    singleLogoutService: [{ Binding: BINDING_REDIRECT, Location: `${entityId}/slo` }],
  });

  const serviceProvider = (spEntityId: string, acsUrl: string, sign: SamlSigning) =>
    samlify.ServiceProvider({
      entityID: spEntityId,
      assertionConsumerService: [{ Binding: BINDING_POST, Location: acsUrl }],
      // samlify signs the assertion when the SP wants it, and the whole response when the SP wants
      // signed messages or does not want signed assertions.
      wantAssertionsSigned: sign !== 'response',
      wantMessageSigned: sign === 'response' || sign === 'both',
    });

  return {
    entityId,
    ssoUrl,
    metadataXml: idp.getMetadata(),
    certificatePem,
    async respond(response) {
      const sign = response.sign ?? 'assertion';
      const sp = serviceProvider(response.spEntityId, response.acsUrl, sign);
      const xml = responseXml(entityId, response);
      const { context } = await idp.createLoginResponse(
        sp,
        { extract: {} },
        'post',
        {},
        {
          customTagReplacement: () => ({ id: 'unused', context: xml }),
        },
      );
      return sign === 'none' ? stripSignatures(context) : context;
    },
    async parseAuthnRequest(redirectUrl) {
      const url = new URL(redirectUrl);
      const query = Object.fromEntries(url.searchParams.entries());
      const sp = samlify.ServiceProvider({ entityID: 'unknown-yet' });
      const parsed = await idp.parseLoginRequest(sp, 'redirect', { query, octetString: url.search.slice(1) });
      const extract = parsed.extract as {
        request?: { id?: string; destination?: string; assertionConsumerServiceUrl?: string };
        issuer?: string;
      };
      const doc = parseXml(parsed.samlContent);
      const policy = doc.getElementsByTagNameNS(NS.protocol, 'NameIDPolicy')[0];
      return {
        id: extract.request?.id ?? '',
        issuer: extract.issuer ?? '',
        acsUrl: extract.request?.assertionConsumerServiceUrl ?? '',
        destination: extract.request?.destination ?? '',
        relayState: url.searchParams.get('RelayState'),
        nameIdPolicyFormat: policy?.getAttribute('Format') || null,
      };
    },
  };
}

/** The AuthnRequest XML inside an HTTP-Redirect URL (base64 of raw DEFLATE). */
export function authnRequestXml(redirectUrl: string): string {
  const encoded = new URL(redirectUrl).searchParams.get('SAMLRequest') ?? '';
  return inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
}

async function selfSignedCertificate(): Promise<{ privateKeyPem: string; certificatePem: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'saml-idp-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=test-idp',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ]);
    return { privateKeyPem: await readFile(keyPath, 'utf8'), certificatePem: await readFile(certPath, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function attr(name: string, value: string | undefined | null): string {
  return value === undefined || value === null ? '' : ` ${name}="${escapeXml(value)}"`;
}

function newId(): string {
  return `_${randomBytes(16).toString('hex')}`;
}

/**
 * The Response as a typical IdP writes it. Namespaces are declared on the Response only, so the
 * assertion depends on its ancestor for the `saml` prefix (as with Keycloak and others).
 */
function responseXml(idpEntityId: string, r: SamlIdpResponse): string {
  const now = new Date();
  const issueInstant = (r.issueInstant ?? now).toISOString();
  const notBefore = (r.notBefore ?? now).toISOString();
  const notOnOrAfter = (r.notOnOrAfter ?? new Date(now.getTime() + 5 * 60_000)).toISOString();
  const issuer = escapeXml(r.issuer ?? idpEntityId);
  const destination = r.destination === undefined ? r.acsUrl : r.destination;
  const attributes = Object.entries(r.attributes ?? {})
    .map(([name, values]) => {
      const list = Array.isArray(values) ? values : [values];
      const rendered = list
        .map((value) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(value)}</saml:AttributeValue>`)
        .join('');
      return `<saml:Attribute${attr('Name', name)} NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">${rendered}</saml:Attribute>`;
    })
    .join('');
  return (
    `<samlp:Response xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}"` +
    ` xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` +
    `${attr('ID', newId())} Version="2.0"${attr('IssueInstant', issueInstant)}${attr('Destination', destination)}` +
    `${attr('InResponseTo', r.inResponseTo)}>` +
    `<saml:Issuer>${issuer}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode${attr('Value', r.status ?? STATUS_SUCCESS)}/></samlp:Status>` +
    `<saml:Assertion${attr('ID', r.assertionId ?? newId())} Version="2.0"${attr('IssueInstant', issueInstant)}>` +
    `<saml:Issuer>${r.assertionIssuer === undefined ? issuer : escapeXml(r.assertionIssuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID${attr('Format', r.nameIdFormat ?? NAMEID_EMAIL)}>${escapeXml(r.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
    `<saml:SubjectConfirmationData${attr('NotOnOrAfter', notOnOrAfter)}${attr('Recipient', r.recipient ?? r.acsUrl)}` +
    `${attr('InResponseTo', r.inResponseTo)}/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions${attr('NotBefore', notBefore)}${attr('NotOnOrAfter', notOnOrAfter)}>` +
    `<saml:AudienceRestriction><saml:Audience>${escapeXml(r.audience ?? r.spEntityId)}</saml:Audience>` +
    `</saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement${attr('AuthnInstant', issueInstant)}${attr('SessionIndex', r.sessionIndex ?? newId())}>` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport` +
    `</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : '') +
    `</saml:Assertion></samlp:Response>`
  );
}

// ---- tampering: real attack variants made from a genuine response ----

function parseXml(xml: string): Document {
  return new DOMParser({
    errorHandler: {
      error: (message: string) => {
        throw new Error(message);
      },
      fatalError: (message: string) => {
        throw new Error(message);
      },
    },
  }).parseFromString(xml, 'text/xml');
}

export function decodeResponse(base64: string): string {
  return Buffer.from(base64, 'base64').toString('utf8');
}

export function encodeResponse(xml: string): string {
  return Buffer.from(xml, 'utf8').toString('base64');
}

/** Parses the response, lets `edit` change the DOM, serializes it again. Signatures are not redone. */
export function editXml(base64: string, edit: (doc: Document) => void): string {
  const doc = parseXml(decodeResponse(base64));
  edit(doc);
  return encodeResponse(new XMLSerializer().serializeToString(doc));
}

/** Removes every XML signature. */
export function stripSignatures(base64: string): string {
  return editXml(base64, (doc) => {
    for (const signature of Array.from(doc.getElementsByTagNameNS(NS.dsig, 'Signature'))) {
      signature.parentNode?.removeChild(signature);
    }
  });
}

function onlyElement(doc: Document, ns: string, name: string): Element {
  const found = doc.getElementsByTagNameNS(ns, name);
  if (found.length !== 1 || !found[0]) throw new Error(`expected one ${name}, found ${found.length}`);
  return found[0];
}

function setNameId(assertion: Element, nameId: string): void {
  const element = assertion.getElementsByTagNameNS(NS.assertion, 'NameID')[0];
  if (!element) throw new Error('no NameID');
  element.textContent = nameId;
}

function removeDirectSignature(element: Element): void {
  for (const child of Array.from(element.childNodes)) {
    if (child.nodeType === 1 && (child as Element).localName === 'Signature') element.removeChild(child);
  }
}

/**
 * XML signature wrapping (XSW). From a genuine response with a signed assertion, a forged copy of
 * the assertion naming `evilNameId` and carrying no signature of its own is placed where a naive
 * verifier reads the assertion, while the signed original stays in the document for the
 * signature check to find:
 * - `extensions`: the forged assertion is the Response's assertion; the original hides in
 *   samlp:Extensions (a verifier that checks "some signature verifies" and then reads
 *   Response/Assertion is fooled);
 * - `sibling`: the forged assertion is put before the original, both children of the Response;
 * - `nested`: the original is wrapped inside the forged assertion;
 * - `same-id`: as `extensions`, but the forged copy keeps the original's ID, so that a lookup by
 *   the signature's reference may land on it.
 */
export function wrapSignature(
  base64: string,
  evilNameId: string,
  variant: 'extensions' | 'sibling' | 'nested' | 'same-id' = 'extensions',
): string {
  return editXml(base64, (doc) => {
    const response = doc.documentElement;
    const original = onlyElement(doc, NS.assertion, 'Assertion');
    const evil = original.cloneNode(true) as Element;
    removeDirectSignature(evil);
    setNameId(evil, evilNameId);
    if (variant !== 'same-id') evil.setAttribute('ID', newId());
    if (variant === 'sibling') {
      response.insertBefore(evil, original);
      return;
    }
    response.replaceChild(evil, original);
    if (variant === 'nested') {
      evil.appendChild(original);
      return;
    }
    const extensions = doc.createElementNS(NS.protocol, 'samlp:Extensions');
    extensions.appendChild(original);
    const status = doc.getElementsByTagNameNS(NS.protocol, 'Status')[0];
    response.insertBefore(extensions, status ?? evil);
  });
}

/**
 * A DOCTYPE with entities in front of the response, the NameID replaced by an entity reference:
 * `xxe` an external entity reading a local file, `billion-laughs` nested entity expansion.
 */
export function withDoctype(base64: string, kind: 'xxe' | 'billion-laughs' = 'xxe'): string {
  const xml = decodeResponse(base64).replace(/^<\?xml[^>]*\?>/, '');
  const subset =
    kind === 'xxe'
      ? '<!ENTITY xxe SYSTEM "file:///etc/passwd">'
      : '<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY xxe "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">';
  const withEntity = xml.replace(/(<saml:NameID[^>]*>)[^<]*(<\/saml:NameID>)/, '$1&xxe;$2');
  return encodeResponse(`<?xml version="1.0"?><!DOCTYPE samlp:Response [${subset}]>${withEntity}`);
}
