import type * as NodeSaml from '@node-saml/node-saml';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { extractProfile, type SamlProfile } from './saml-profile';
import { SamlRefusal, type SamlRefusalCode } from './saml-refusal';
import type { SamlStateStore } from './saml-state-store';
import {
  allElements,
  attribute,
  childElement,
  childElements,
  decodeBase64Xml,
  parseStrictXml,
  SAML_NS,
  text,
} from './saml-xml';

export interface SamlConnectionSettings {
  connectionId: string;
  idpEntityId: string;
  /** HTTP-Redirect binding SSO URL of the IdP. */
  idpSsoUrl: string;
  /** PEM certificates; several during a rotation (any may verify). */
  idpCertificates: string[];
  spEntityId: string;
  acsUrl: string;
  /** false: an assertion must answer a request we sent (signed InResponseTo). */
  allowIdpInitiated: boolean;
}

export interface SamlServiceProviderOptions {
  /** Tolerance on every timestamp, both ways. Default 60 s. */
  clockSkewMs?: number;
  /** Largest SAMLResponse accepted, in base64 characters. Default 256 KiB. */
  maxResponseBytes?: number;
  /** How long an AuthnRequest may wait for its answer. Default 10 min. */
  requestTtlMs?: number;
  /** An assertion is refused this long after its IssueInstant, whatever its NotOnOrAfter says. Default 10 min. */
  maxAssertionAgeMs?: number;
}

const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
/** saml-bindings 3.4.3: RelayState MUST NOT exceed 80 bytes. */
const MAX_RELAY_STATE_BYTES = 80;
const MAX_ID_LENGTH = 256;

let loadedNodeSaml: typeof NodeSaml | undefined;

/**
 * node-saml and the XML signature and encryption stack behind it (about 100 modules, 4 MB of heap)
 * load with an organization's first SAML call, not in every process that starts.
 */
function nodeSaml(): typeof NodeSaml {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loadedNodeSaml ??= require('@node-saml/node-saml') as typeof NodeSaml;
  return loadedNodeSaml;
}

/**
 * SP metadata for one connection: entityID, the ACS (HTTP-POST), NameIDFormat emailAddress,
 * WantAssertionsSigned, AuthnRequestsSigned="false". Needs nothing from the IdP, so an
 * administrator can fetch it before configuring the IdP.
 */
export function serviceProviderMetadata(settings: Pick<SamlConnectionSettings, 'spEntityId' | 'acsUrl'>): string {
  return nodeSaml().generateServiceProviderMetadata({
    issuer: settings.spEntityId,
    callbackUrl: settings.acsUrl,
    identifierFormat: NAMEID_EMAIL,
    wantAssertionsSigned: true,
  });
}

/**
 * The SAML 2.0 Web Browser SSO service provider: sends AuthnRequests over HTTP-Redirect and
 * validates the Responses posted back. node-saml verifies the signatures (and only hands back
 * what a signature covers), the audience and the assertion's Conditions times; this class adds
 * what node-saml leaves out: strict decoding and DTD refusal, the response status, issuer,
 * Destination and bearer SubjectConfirmation (Recipient, times, InResponseTo), single-use
 * request ids bound to their connection, and assertion replay.
 */
export class SamlServiceProvider {
  private readonly clockSkewMs: number;
  private readonly maxResponseBytes: number;
  private readonly requestTtlMs: number;
  private readonly maxAssertionAgeMs: number;

  constructor(
    private readonly store: SamlStateStore,
    options: SamlServiceProviderOptions = {},
  ) {
    this.clockSkewMs = options.clockSkewMs ?? 60_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 256 * 1024;
    this.requestTtlMs = options.requestTtlMs ?? 10 * 60_000;
    this.maxAssertionAgeMs = options.maxAssertionAgeMs ?? 10 * 60_000;
  }

  /** An AuthnRequest over HTTP-Redirect; its id is saved in the store until answered or expired. */
  async authorizeUrl(
    settings: SamlConnectionSettings,
    relayState: string,
  ): Promise<{ url: string; requestId: string }> {
    const certificates = checkSettings(settings);
    if (Buffer.byteLength(relayState, 'utf8') > MAX_RELAY_STATE_BYTES) {
      throw new RangeError(`RelayState over ${MAX_RELAY_STATE_BYTES} bytes`);
    }
    const requestId = `_${randomBytes(20).toString('hex')}`;
    const saml = new (nodeSaml().SAML)({
      ...this.samlConfig(settings, certificates),
      generateUniqueId: () => requestId,
    });
    await this.store.saveRequest(requestId, settings.connectionId, this.requestTtlMs);
    const url = await saml.getAuthorizeUrlAsync(relayState, undefined, {});
    return { url, requestId };
  }

  /** Validates a posted SAMLResponse; throws SamlRefusal. */
  async validate(settings: SamlConnectionSettings, samlResponseBase64: string): Promise<SamlProfile> {
    const certificates = checkSettings(settings);
    if (typeof samlResponseBase64 !== 'string') throw new SamlRefusal('malformed', 'SAMLResponse is not a string');
    const { xml, base64 } = decodeBase64Xml(samlResponseBase64, this.maxResponseBytes);
    const doc = parseStrictXml(xml, 'SAML response');
    const envelope = inspectResponse(doc, settings);

    // Every signature present must verify, and at least one is needed (inspectResponse refused
    // the unsigned): node-saml requires the response signature when there is one and the
    // assertion signature when there is one. When only the response is signed, node-saml reads
    // the assertion out of the bytes that signature covers.
    const saml = new (nodeSaml().SAML)({
      ...this.samlConfig(settings, certificates),
      wantAuthnResponseSigned: envelope.responseSigned,
      wantAssertionsSigned: envelope.assertionSigned,
    });
    let assertionXml: string;
    try {
      const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: base64 });
      if (!profile?.getAssertionXml) throw new Error('no assertion in the response');
      assertionXml = profile.getAssertionXml();
    } catch (error) {
      throw refusalFromNodeSaml(error);
    }

    const assertion = parseStrictXml(assertionXml, 'signed assertion').documentElement;
    if (assertion.localName !== 'Assertion' || assertion.namespaceURI !== SAML_NS.assertion) {
      throw new SamlRefusal('bad-signature', 'the signed content is not an assertion');
    }
    if (attribute(assertion, 'ID') !== envelope.assertionId) {
      throw new SamlRefusal('bad-signature', 'the signed assertion is not the response assertion');
    }
    const checked = this.checkAssertion(assertion, settings);

    // InResponseTo: only the signed value counts (the assertion's SubjectConfirmationData, or the
    // Response's when the Response itself is signed).
    const responseInResponseTo = envelope.inResponseTo;
    if (responseInResponseTo && checked.inResponseTo && responseInResponseTo !== checked.inResponseTo) {
      throw new SamlRefusal('unknown-request', 'InResponseTo differs between the response and the assertion');
    }
    const inResponseTo = checked.inResponseTo ?? (envelope.responseSigned ? responseInResponseTo : null);
    if (responseInResponseTo && !inResponseTo) {
      throw new SamlRefusal('unknown-request', 'the response InResponseTo is not covered by a signature');
    }
    if (!inResponseTo && !settings.allowIdpInitiated) {
      throw new SamlRefusal('idp-initiated-disabled', 'unsolicited response while IdP-initiated sign-in is off');
    }
    if (inResponseTo && inResponseTo.length > MAX_ID_LENGTH)
      throw new SamlRefusal('malformed', 'InResponseTo too long');

    const replayKey = `${settings.connectionId}:${createHash('sha256').update(checked.assertionId).digest('hex')}`;
    if (!(await this.store.firstUse(replayKey, checked.replayTtlMs))) {
      throw new SamlRefusal('replayed', `assertion ${checked.assertionId} already used`);
    }
    if (inResponseTo) {
      const connectionId = await this.store.takeRequest(inResponseTo);
      if (connectionId === undefined) {
        throw new SamlRefusal('unknown-request', `InResponseTo ${inResponseTo} is unknown, expired or already used`);
      }
      if (connectionId !== settings.connectionId) {
        throw new SamlRefusal('unknown-request', `InResponseTo ${inResponseTo} was sent for another connection`);
      }
    }
    return extractProfile(assertion, { inResponseTo });
  }

  private samlConfig(settings: SamlConnectionSettings, certificates: string[]): NodeSaml.SamlConfig {
    return {
      entryPoint: settings.idpSsoUrl,
      issuer: settings.spEntityId,
      callbackUrl: settings.acsUrl,
      audience: settings.spEntityId,
      idpIssuer: settings.idpEntityId,
      idpCert: certificates,
      acceptedClockSkewMs: this.clockSkewMs,
      maxAssertionAgeMs: this.maxAssertionAgeMs,
      // InResponseTo is checked here, against the signed value, with an atomic single-use take
      // bound to the connection: node-saml's cache reads then deletes, and trusts the Response
      // attribute even when only the assertion is signed.
      validateInResponseTo: nodeSaml().ValidateInResponseTo.never,
      // Let the IdP choose the NameID format and how to authenticate (MFA, Kerberos...): a fixed
      // format or AuthnContext makes some IdPs refuse the request.
      identifierFormat: null,
      disableRequestedAuthnContext: true,
      wantAuthnResponseSigned: false,
      wantAssertionsSigned: true,
    };
  }

  /** Checks on the signed assertion that node-saml does not make. */
  private checkAssertion(
    assertion: Element,
    settings: SamlConnectionSettings,
  ): { assertionId: string; inResponseTo: string | null; replayTtlMs: number } {
    const now = Date.now();
    const skew = this.clockSkewMs;
    const assertionId = attribute(assertion, 'ID') ?? '';
    if (!assertionId || assertionId.length > MAX_ID_LENGTH)
      throw new SamlRefusal('malformed', 'assertion ID missing or too long');

    const issuer = text(childElement(assertion, SAML_NS.assertion, 'Issuer'));
    if (issuer !== settings.idpEntityId) {
      throw new SamlRefusal('wrong-issuer', `assertion issuer ${String(issuer)} is not ${settings.idpEntityId}`);
    }
    const issueInstant = timestamp(attribute(assertion, 'IssueInstant'), 'IssueInstant');
    if (issueInstant === null) throw new SamlRefusal('malformed', 'assertion without IssueInstant');
    if (issueInstant > now + skew) throw new SamlRefusal('not-yet-valid', 'assertion issued in the future');

    // saml-profiles 4.1.4.3: a bearer SubjectConfirmation whose Recipient is our ACS, within its
    // NotBefore/NotOnOrAfter (NotOnOrAfter required), answering our request when it says so.
    const subject = childElement(assertion, SAML_NS.assertion, 'Subject');
    const bearers = (subject ? childElements(subject, SAML_NS.assertion, 'SubjectConfirmation') : [])
      .filter((confirmation) => attribute(confirmation, 'Method') === BEARER)
      .map((confirmation) => childElement(confirmation, SAML_NS.assertion, 'SubjectConfirmationData'));
    if (bearers.length === 0) throw new SamlRefusal('malformed', 'assertion without a bearer SubjectConfirmation');
    let refusal: SamlRefusal | undefined;
    let chosen: { inResponseTo: string | null; notOnOrAfter: number } | undefined;
    for (const data of bearers) {
      const problem = data ? this.confirmationProblem(data, settings, now) : 'malformed';
      if (problem === null && data) {
        chosen = {
          inResponseTo: attribute(data, 'InResponseTo'),
          notOnOrAfter: timestamp(attribute(data, 'NotOnOrAfter'), 'NotOnOrAfter')!,
        };
        break;
      }
      refusal ??= new SamlRefusal(problem ?? 'malformed', `bearer SubjectConfirmationData refused: ${String(problem)}`);
    }
    if (!chosen) throw refusal ?? new SamlRefusal('malformed', 'no usable SubjectConfirmation');

    // The acceptance window ends at the earliest limit; the replay record must outlive it.
    const conditions = childElement(assertion, SAML_NS.assertion, 'Conditions');
    const conditionsEnd = conditions ? timestamp(attribute(conditions, 'NotOnOrAfter'), 'NotOnOrAfter') : null;
    const windowEnd = Math.min(chosen.notOnOrAfter, conditionsEnd ?? Infinity, issueInstant + this.maxAssertionAgeMs);
    const replayTtlMs = Math.max(1_000, windowEnd + skew - now);
    return { assertionId, inResponseTo: chosen.inResponseTo, replayTtlMs };
  }

  private confirmationProblem(data: Element, settings: SamlConnectionSettings, now: number): SamlRefusalCode | null {
    if (attribute(data, 'Recipient') !== settings.acsUrl) return 'wrong-recipient';
    const notOnOrAfter = timestamp(attribute(data, 'NotOnOrAfter'), 'NotOnOrAfter');
    if (notOnOrAfter === null) return 'malformed';
    if (now - this.clockSkewMs >= notOnOrAfter) return 'expired';
    const notBefore = timestamp(attribute(data, 'NotBefore'), 'NotBefore');
    if (notBefore !== null && now + this.clockSkewMs < notBefore) return 'not-yet-valid';
    return null;
  }
}

interface ResponseEnvelope {
  responseSigned: boolean;
  assertionSigned: boolean;
  assertionId: string;
  inResponseTo: string | null;
}

/**
 * Checks on the Response before any signature work: the shape (one assertion, where it belongs;
 * signatures only where they belong; no duplicate ids), the status, and the unsigned-but-telling
 * Issuer and Destination. Refusing here never trusts anything; the signed values are checked
 * again after verification.
 */
function inspectResponse(doc: Document, settings: SamlConnectionSettings): ResponseEnvelope {
  const root = doc.documentElement;
  if (root.localName !== 'Response' || root.namespaceURI !== SAML_NS.protocol) {
    throw new SamlRefusal('malformed', `not a SAML Response: ${root.localName}`);
  }
  if (attribute(root, 'Version') !== '2.0') throw new SamlRefusal('malformed', 'not a SAML 2.0 response');

  const statusCode = childElement(
    childElement(root, SAML_NS.protocol, 'Status') ?? root,
    SAML_NS.protocol,
    'StatusCode',
  );
  if (!statusCode) throw new SamlRefusal('malformed', 'response without a status');
  const status = attribute(statusCode, 'Value');
  if (status !== STATUS_SUCCESS) {
    const second = childElement(statusCode, SAML_NS.protocol, 'StatusCode');
    const detail = second ? ` / ${String(attribute(second, 'Value'))}` : '';
    throw new SamlRefusal('status-not-success', `IdP answered ${String(status)}${detail}`);
  }

  const responseIssuer = childElement(root, SAML_NS.assertion, 'Issuer');
  if (responseIssuer && text(responseIssuer) !== settings.idpEntityId) {
    throw new SamlRefusal(
      'wrong-issuer',
      `response issuer ${String(text(responseIssuer))} is not ${settings.idpEntityId}`,
    );
  }
  const destination = attribute(root, 'Destination');
  if (destination !== null && destination !== settings.acsUrl) {
    throw new SamlRefusal('wrong-recipient', `response Destination ${destination} is not ${settings.acsUrl}`);
  }

  const elements = allElements(doc);
  if (elements.some((element) => element.localName === 'EncryptedAssertion')) {
    throw new SamlRefusal('encrypted-assertion', 'encrypted assertions are not supported');
  }
  // Counted by local name in any namespace, as node-saml's XPath does.
  const assertions = elements.filter((element) => element.localName === 'Assertion');
  if (assertions.length === 0) throw new SamlRefusal('malformed', 'response without an assertion');
  const assertion = assertions[0]!;
  if (assertions.length > 1 || assertion.parentNode !== root || assertion.namespaceURI !== SAML_NS.assertion) {
    throw new SamlRefusal('bad-signature', 'assertion out of place or more than one (signature wrapping?)');
  }

  const signatures = elements.filter((element) => element.localName === 'Signature');
  for (const signature of signatures) {
    const parent = signature.parentNode;
    if (signature.namespaceURI !== SAML_NS.dsig || (parent !== root && parent !== assertion)) {
      throw new SamlRefusal('bad-signature', 'signature out of place');
    }
  }
  const responseSigned = signatures.some((signature) => signature.parentNode === root);
  const assertionSigned = signatures.some((signature) => signature.parentNode === assertion);
  if (!responseSigned && !assertionSigned)
    throw new SamlRefusal('unsigned', 'neither the response nor the assertion is signed');

  const ids = new Set<string>();
  for (const element of elements) {
    for (const name of ['ID', 'Id', 'id']) {
      const id = attribute(element, name);
      if (id === null) continue;
      if (ids.has(id)) throw new SamlRefusal('bad-signature', `duplicate id ${id} (signature wrapping?)`);
      ids.add(id);
    }
  }
  return {
    responseSigned,
    assertionSigned,
    assertionId: attribute(assertion, 'ID') ?? '',
    inResponseTo: attribute(root, 'InResponseTo'),
  };
}

/** node-saml's errors, by their wording, to our codes; anything unrecognised is 'malformed'. */
const NODE_SAML_ERRORS: ReadonlyArray<[RegExp, SamlRefusalCode]> = [
  [/not yet valid/i, 'not-yet-valid'],
  [/expired|too old/i, 'expired'],
  [/audience/i, 'wrong-audience'],
  [/decrypt|encrypted/i, 'encrypted-assertion'],
  [/signature|signed|referenced node|reference uri|ID cannot refer|transforms/i, 'bad-signature'],
  [/InResponseTo/i, 'unknown-request'],
  [/issuer/i, 'wrong-issuer'],
];

export function refusalFromNodeSaml(error: unknown): SamlRefusal {
  if (error instanceof SamlRefusal) return error;
  const message = error instanceof Error ? error.message : String(error);
  // Nothing node-saml threw exists before it is loaded.
  if (loadedNodeSaml && error instanceof loadedNodeSaml.SamlStatusError)
    return new SamlRefusal('status-not-success', message, { cause: error });
  const code = NODE_SAML_ERRORS.find(([pattern]) => pattern.test(message))?.[1] ?? 'malformed';
  return new SamlRefusal(code, `node-saml: ${message}`, { cause: error });
}

function timestamp(value: string | null, label: string): number | null {
  if (value === null) return null;
  // xs:dateTime, as SAML requires (UTC); Date.parse alone accepts far looser forms.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw new SamlRefusal('malformed', `${label} is not a dateTime: ${value.slice(0, 40)}`);
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new SamlRefusal('malformed', `${label} is not a valid date: ${value.slice(0, 40)}`);
  return ms;
}

/** Validates and normalises the certificates (a configuration error is not the IdP's refusal). */
function checkSettings(settings: SamlConnectionSettings): string[] {
  for (const key of ['connectionId', 'idpEntityId', 'idpSsoUrl', 'spEntityId', 'acsUrl'] as const) {
    if (typeof settings[key] !== 'string' || settings[key].length === 0) {
      throw new TypeError(`SAML connection settings: ${key} is required`);
    }
  }
  if (!Array.isArray(settings.idpCertificates) || settings.idpCertificates.length === 0) {
    throw new TypeError(`SAML connection ${settings.connectionId}: no IdP certificate`);
  }
  return settings.idpCertificates.map((pem, index) => {
    try {
      return new X509Certificate(pem).toString();
    } catch (error) {
      throw new TypeError(
        `SAML connection ${settings.connectionId}: idpCertificates[${index}] is not a PEM certificate`,
        {
          cause: error,
        },
      );
    }
  });
}
