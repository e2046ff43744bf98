import { ValidationProblemException } from '@app/common';
import { X509Certificate } from 'node:crypto';
import type { SsoCertificateDto } from './dto/sso.dto';

/** A certificate as PEM, from PEM or from the bare base64 that metadata and IdP consoles show. */
export function toPem(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith('-----BEGIN CERTIFICATE-----')) return trimmed;
  const body = trimmed.replace(/\s+/g, '');
  return `-----BEGIN CERTIFICATE-----\n${(body.match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----`;
}

/** Parses and describes each certificate; a value that is not an X.509 certificate is a 400 naming it. */
export function describeCertificates(pems: string[], field = 'idpCertificates'): SsoCertificateDto[] {
  const now = Date.now();
  return pems.map((pem, index) => {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch {
      throw new ValidationProblemException([{ field: `${field}[${index}]`, message: 'is not an X.509 certificate' }]);
    }
    const notAfter = new Date(certificate.validTo);
    return {
      fingerprint: certificate.fingerprint256,
      subject: certificate.subject || null,
      notAfter,
      expired: notAfter.getTime() <= now,
    };
  });
}
