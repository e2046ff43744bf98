import { X509Certificate } from 'node:crypto';
import { SamlRefusal } from './saml-refusal';
import { attribute, childElements, parseStrictXml, SAML_NS } from './saml-xml';

export interface IdpMetadata {
  entityId: string;
  /** The HTTP-Redirect SingleSignOnService location. */
  ssoUrl: string;
  /** PEM certificates of the signing keys (KeyDescriptor use="signing" or without use), deduplicated. */
  certificates: string[];
}

/** Per-IdP metadata is a few kilobytes; ADFS's, with its WS-Federation roles, some tens. */
export const MAX_METADATA_CHARS = 512 * 1024;

const PROTOCOL_SAML2 = 'urn:oasis:names:tc:SAML:2.0:protocol';
const BINDING_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

/**
 * Reads what an SP needs from an IdP's SAML 2.0 metadata: its entity id, the HTTP-Redirect SSO
 * endpoint and the signing certificates. An EntitiesDescriptor is accepted when it holds exactly
 * one IdP. The metadata's own signature (if any) is not checked: an administrator uploads it.
 * Refusals are SamlRefusal('too-large' | 'dtd-forbidden' | 'malformed'); their messages are ours,
 * safe to show to that administrator.
 */
export function parseIdpMetadata(xml: string): IdpMetadata {
  if (typeof xml !== 'string' || xml.length === 0) throw new SamlRefusal('malformed', 'The metadata is empty.');
  if (xml.length > MAX_METADATA_CHARS) {
    throw new SamlRefusal('too-large', `The metadata is over ${MAX_METADATA_CHARS} characters.`);
  }
  const doc = parseStrictXml(xml.replace(/^\uFEFF/, ''), 'The metadata');
  const root = doc.documentElement;
  if (root.namespaceURI !== SAML_NS.metadata) {
    throw new SamlRefusal('malformed', 'This is not SAML 2.0 metadata (no EntityDescriptor).');
  }
  let entities: Element[];
  if (root.localName === 'EntityDescriptor') entities = [root];
  else if (root.localName === 'EntitiesDescriptor') {
    entities = Array.from(doc.getElementsByTagNameNS(SAML_NS.metadata, 'EntityDescriptor'));
  } else throw new SamlRefusal('malformed', 'This is not SAML 2.0 metadata (no EntityDescriptor).');

  const idps = entities.flatMap((entity) =>
    childElements(entity, SAML_NS.metadata, 'IDPSSODescriptor')
      .filter((descriptor) =>
        (attribute(descriptor, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(PROTOCOL_SAML2),
      )
      .map((descriptor) => ({ entity, descriptor })),
  );
  if (idps.length === 0) throw new SamlRefusal('malformed', 'The metadata describes no SAML 2.0 identity provider.');
  if (idps.length > 1) throw new SamlRefusal('malformed', 'The metadata describes more than one identity provider.');
  const { entity, descriptor } = idps[0]!;

  const entityId = (attribute(entity, 'entityID') ?? '').trim();
  if (!entityId || entityId.length > 1024) throw new SamlRefusal('malformed', 'The metadata has no valid entityID.');

  const redirect = childElements(descriptor, SAML_NS.metadata, 'SingleSignOnService').find(
    (service) => attribute(service, 'Binding') === BINDING_REDIRECT,
  );
  if (!redirect) {
    throw new SamlRefusal(
      'malformed',
      'The identity provider has no SingleSignOnService with the HTTP-Redirect binding.',
    );
  }
  const ssoUrl = (attribute(redirect, 'Location') ?? '').trim();
  if (!isHttpUrl(ssoUrl)) throw new SamlRefusal('malformed', 'The HTTP-Redirect SingleSignOnService has no valid URL.');

  const certificates = new Map<string, string>();
  for (const key of childElements(descriptor, SAML_NS.metadata, 'KeyDescriptor')) {
    const use = attribute(key, 'use');
    if (use !== null && use !== 'signing') continue;
    for (const keyInfo of childElements(key, SAML_NS.dsig, 'KeyInfo')) {
      for (const data of childElements(keyInfo, SAML_NS.dsig, 'X509Data')) {
        for (const element of childElements(data, SAML_NS.dsig, 'X509Certificate')) {
          const certificate = certificateFromBase64(element.textContent ?? '');
          certificates.set(certificate.fingerprint256, certificate.toString());
        }
      }
    }
  }
  if (certificates.size === 0) throw new SamlRefusal('malformed', 'The identity provider has no signing certificate.');
  return { entityId, ssoUrl, certificates: [...certificates.values()] };
}

function certificateFromBase64(value: string): X509Certificate {
  const compact = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw new SamlRefusal('malformed', 'A signing certificate in the metadata is not base64.');
  }
  try {
    return new X509Certificate(Buffer.from(compact, 'base64'));
  } catch (error) {
    throw new SamlRefusal('malformed', 'A signing certificate in the metadata is not an X.509 certificate.', {
      cause: error,
    });
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
