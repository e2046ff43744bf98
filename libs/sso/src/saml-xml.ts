import { DOMParser } from '@xmldom/xmldom';
import { SamlRefusal } from './saml-refusal';

export const SAML_NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ELEMENT_NODE = 1;

/**
 * Decodes a base64 form value strictly: only the base64 alphabet with correct padding, line breaks
 * and spaces allowed (IdPs wrap long lines), and the bytes must be valid UTF-8. Returns the XML
 * and the same base64 without whitespace.
 */
export function decodeBase64Xml(value: string, maxChars: number): { xml: string; base64: string } {
  if (value.length > maxChars) {
    throw new SamlRefusal('too-large', `SAML message of ${value.length} characters, over the limit of ${maxChars}`);
  }
  const base64 = value.replace(/[\t\n\r ]/g, '');
  if (base64.length === 0 || !BASE64.test(base64)) {
    throw new SamlRefusal('malformed', 'SAML message is not base64');
  }
  let xml: string;
  try {
    xml = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(base64, 'base64'));
  } catch (error) {
    throw new SamlRefusal('malformed', 'SAML message is not UTF-8', { cause: error });
  }
  return { xml, base64 };
}

/**
 * Parses XML strictly. A document type declaration is refused outright, before any parser sees
 * it: it is how entity expansion (billion laughs) and external entities (XXE) get in, and SAML
 * never needs one. Any parser warning or error is a refusal too.
 */
export function parseStrictXml(xml: string, what: string): Document {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    throw new SamlRefusal('dtd-forbidden', `${what} carries a document type declaration`);
  }
  if (xml.includes('\u0000')) throw new SamlRefusal('malformed', `${what} contains NUL characters`);
  const problems: string[] = [];
  const doc = new DOMParser({
    errorHandler: {
      warning: (message: string) => problems.push(message),
      error: (message: string) => problems.push(message),
      fatalError: (message: string) => problems.push(message),
    },
  }).parseFromString(xml, 'text/xml');
  if (problems.length > 0 || !doc?.documentElement) {
    throw new SamlRefusal('malformed', `${what} is not well-formed XML: ${problems.join('; ').slice(0, 500)}`);
  }
  for (const node of Array.from(doc.childNodes)) {
    if (node.nodeType === 10) throw new SamlRefusal('dtd-forbidden', `${what} carries a document type declaration`);
  }
  return doc;
}

export function childElements(parent: Element, ns: string, localName: string): Element[] {
  return Array.from(parent.childNodes).filter(
    (node): node is Element =>
      node.nodeType === ELEMENT_NODE &&
      (node as Element).localName === localName &&
      (node as Element).namespaceURI === ns,
  );
}

export function childElement(parent: Element, ns: string, localName: string): Element | undefined {
  return childElements(parent, ns, localName)[0];
}

/** Every element in the document, in document order. */
export function allElements(doc: Document): Element[] {
  return Array.from(doc.getElementsByTagName('*'));
}

export function text(element: Element | undefined): string | null {
  if (!element) return null;
  const value = (element.textContent ?? '').trim();
  return value.length > 0 ? value : null;
}

/** An attribute's value, or null when absent (xmldom returns '' for a missing attribute). */
export function attribute(element: Element, name: string): string | null {
  return element.hasAttribute(name) ? element.getAttribute(name) : null;
}
