import { encodeCBOR } from '@levischuck/tiny-cbor';
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * A software authenticator for tests: what a browser and a platform authenticator together answer
 * to navigator.credentials.create() and .get(), built byte by byte as WebAuthn Level 3 lays it
 * out (authenticator data, `none` attestation in CBOR, a COSE ES256 key, DER ECDSA signatures).
 * Nothing of the server library is used to build it, so the api's verification is tested for real.
 */

// Authenticators write CTAP2 canonical CBOR: maps with minimal length headers, byte strings as
// such. tiny-cbor writes exactly that from Maps (cbor-x would have been independent of the server's
// decoder, but its native accelerator's platform packages cannot be locked from this registry).
const cbor = { encode: (value: Map<string | number, unknown>): Uint8Array => encodeCBOR(value as never) };

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

const b64u = (bytes: Buffer): string => bytes.toString('base64url');
const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();

export interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  excludeCredentials?: Array<{ id: string }>;
}

export interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: Array<{ id: string }>;
}

interface StoredCredential {
  id: Buffer;
  privateKey: KeyObject;
  /** base64url, as the options carried it. */
  userHandle: string;
  rpId: string;
  counter: number;
}

/** What a test may bend, to see the api refuse it. */
export interface Overrides {
  origin?: string;
  rpId?: string;
  /** User verification flag; default true. */
  uv?: boolean;
  type?: string;
  challenge?: string;
  /** The signature counter to report (default: one more than last time; 0 when counterless). */
  counter?: number;
  /** Answer with this credential (base64url id) instead of the first one allowed. */
  credentialId?: string;
  /** Leave userHandle out of the assertion. */
  omitUserHandle?: boolean;
  /** Sign with another key than the stored one. */
  wrongKey?: boolean;
}

export interface RegistrationJson {
  id: string;
  rawId: string;
  type: 'public-key';
  authenticatorAttachment: 'platform';
  clientExtensionResults: Record<string, never>;
  response: { clientDataJSON: string; attestationObject: string; transports: string[] };
}

export interface AssertionJson {
  id: string;
  rawId: string;
  type: 'public-key';
  authenticatorAttachment: 'platform';
  clientExtensionResults: Record<string, never>;
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string };
}

export class SoftwareAuthenticator {
  private readonly credentials: StoredCredential[] = [];

  /**
   * @param origin the page's origin the "browser" reports
   * @param options.counterless an authenticator that keeps no signature counter (always 0), as synced passkeys do
   * @param options.backedUp backup eligible and backed up (a synced passkey), default true
   */
  constructor(
    private readonly origin: string,
    private readonly options: { counterless?: boolean; backedUp?: boolean } = {},
  ) {}

  get credentialIds(): string[] {
    return this.credentials.map((credential) => b64u(credential.id));
  }

  /** navigator.credentials.create(): a new ES256 key pair and its `none` attestation. */
  create(options: CreationOptions, overrides: Overrides = {}): RegistrationJson {
    const rpId = overrides.rpId ?? options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const id = randomBytes(32);
    const jwk = publicKey.export({ format: 'jwk' });
    const coseKey = cbor.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y ?? '', 'base64url'))],
      ]),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, id, Buffer.from(coseKey)]);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([FLAG_UP | (overrides.uv === false ? 0 : FLAG_UV) | FLAG_AT | this.backupFlags()]),
      this.counterBytes(0),
      attested,
    ]);
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, overrides);
    const attestationObject = cbor.encode(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    this.credentials.push({ id, privateKey, userHandle: options.user.id, rpId, counter: 0 });
    return {
      id: b64u(id),
      rawId: b64u(id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64u(clientDataJSON),
        attestationObject: b64u(Buffer.from(attestationObject)),
        transports: ['internal', 'hybrid'],
      },
    };
  }

  /** navigator.credentials.get(): an assertion by the first credential allowed (or any, when none is listed). */
  get(options: RequestOptions, overrides: Overrides = {}): AssertionJson {
    const allowed = (options.allowCredentials ?? []).map((entry) => entry.id);
    const wanted = overrides.credentialId;
    const credential = this.credentials.find((candidate) =>
      wanted ? b64u(candidate.id) === wanted : allowed.length === 0 || allowed.includes(b64u(candidate.id)),
    );
    if (!credential) throw new Error('the authenticator holds no credential these options allow');
    const rpId = overrides.rpId ?? options.rpId ?? credential.rpId;
    const counter = overrides.counter ?? (this.options.counterless ? 0 : credential.counter + 1);
    credential.counter = Math.max(credential.counter, counter);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([FLAG_UP | (overrides.uv === false ? 0 : FLAG_UV) | this.backupFlags()]),
      this.counterBytes(counter),
    ]);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, overrides);
    const key = overrides.wrongKey
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
      : credential.privateKey;
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), key);
    return {
      id: b64u(credential.id),
      rawId: b64u(credential.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(overrides.omitUserHandle ? {} : { userHandle: credential.userHandle }),
      },
    };
  }

  private backupFlags(): number {
    return this.options.backedUp === false ? 0 : FLAG_BE | FLAG_BS;
  }

  private counterBytes(counter: number): Buffer {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(counter);
    return bytes;
  }

  private clientData(type: string, challenge: string, overrides: Overrides): Buffer {
    return Buffer.from(
      JSON.stringify({
        type: overrides.type ?? type,
        challenge: overrides.challenge ?? challenge,
        origin: overrides.origin ?? this.origin,
        crossOrigin: false,
      }),
    );
  }
}
