import { SamlRefusal } from './saml-refusal';
import { attribute, childElement, childElements, SAML_NS, text } from './saml-xml';

export interface SamlProfile {
  nameId: string;
  nameIdFormat: string | null;
  /** From the NameID when its format is emailAddress, else from the usual email attributes. */
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  displayName: string | null;
  /** Every attribute by its Name, all values (a prototype-less object: any Name is safe as a key). */
  attributes: Record<string, string[]>;
  issuer: string;
  assertionId: string;
  /** The request this answers; null for an IdP-initiated sign-in. */
  inResponseTo: string | null;
  sessionIndex: string | null;
}

const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

/** Attribute names in order of preference, compared case-insensitively. */
const EMAIL = [
  'email',
  'mail',
  'emailaddress',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  'urn:oid:0.9.2342.19200300.100.1.3',
];
const FIRST_NAME = [
  'firstName',
  'givenName',
  'given_name',
  'first_name',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
  'urn:oid:2.5.4.42',
];
const LAST_NAME = [
  'lastName',
  'sn',
  'surname',
  'family_name',
  'last_name',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname',
  'urn:oid:2.5.4.4',
];
const DISPLAY_NAME = [
  'displayName',
  'display_name',
  'http://schemas.microsoft.com/identity/claims/displayname',
  'urn:oid:2.16.840.1.113730.3.1.241',
];

/** Reads the profile out of a verified assertion (the one node-saml's signature check returned). */
export function extractProfile(assertion: Element, context: { inResponseTo: string | null }): SamlProfile {
  const subject = childElement(assertion, SAML_NS.assertion, 'Subject');
  const nameIdElement = subject ? childElement(subject, SAML_NS.assertion, 'NameID') : undefined;
  // textContent joins every text node: a comment slipped into a signed NameID (which exclusive
  // canonicalization ignores) cannot truncate the value.
  const nameId = text(nameIdElement);
  if (!nameIdElement || !nameId) throw new SamlRefusal('malformed', 'assertion without a NameID');
  const nameIdFormat = attribute(nameIdElement, 'Format');

  const attributes = Object.create(null) as Record<string, string[]>;
  for (const statement of childElements(assertion, SAML_NS.assertion, 'AttributeStatement')) {
    for (const element of childElements(statement, SAML_NS.assertion, 'Attribute')) {
      const name = attribute(element, 'Name');
      if (!name) continue;
      const values = childElements(element, SAML_NS.assertion, 'AttributeValue')
        .map((value) => (value.textContent ?? '').trim())
        .filter((value) => value.length > 0);
      attributes[name] = [...(attributes[name] ?? []), ...values];
    }
  }
  const first = (names: string[]): string | null => {
    const wanted = names.map((name) => name.toLowerCase());
    for (const name of wanted) {
      for (const [key, values] of Object.entries(attributes)) {
        if (key.toLowerCase() === name && values[0]) return values[0];
      }
    }
    return null;
  };

  const fromNameId = nameIdFormat === NAMEID_EMAIL && looksLikeEmail(nameId) ? nameId : null;
  const fromAttribute = first(EMAIL);
  const authn = childElement(assertion, SAML_NS.assertion, 'AuthnStatement');
  return {
    nameId,
    nameIdFormat,
    email: fromNameId ?? (fromAttribute && looksLikeEmail(fromAttribute) ? fromAttribute : null),
    firstName: first(FIRST_NAME),
    lastName: first(LAST_NAME),
    displayName: first(DISPLAY_NAME),
    attributes,
    issuer: text(childElement(assertion, SAML_NS.assertion, 'Issuer')) ?? '',
    assertionId: attribute(assertion, 'ID') ?? '',
    inResponseTo: context.inResponseTo,
    sessionIndex: authn ? attribute(authn, 'SessionIndex') : null,
  };
}

function looksLikeEmail(value: string): boolean {
  return value.length <= 320 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);
}
