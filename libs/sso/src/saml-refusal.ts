/**
 * Why a SAML message (or IdP metadata) was refused. The code is what a client may see; the
 * message says more, for logs, and may quote the IdP's XML or the SAML library's own wording.
 */
export type SamlRefusalCode =
  | 'malformed'
  | 'too-large'
  | 'dtd-forbidden'
  | 'unsigned'
  | 'bad-signature'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'wrong-recipient'
  | 'expired'
  | 'not-yet-valid'
  | 'unknown-request'
  | 'replayed'
  | 'idp-initiated-disabled'
  | 'status-not-success'
  | 'encrypted-assertion';

export class SamlRefusal extends Error {
  override readonly name = 'SamlRefusal';

  constructor(
    readonly code: SamlRefusalCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
