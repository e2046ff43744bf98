import { randomBytes } from 'node:crypto';
import { sha256 } from './secret-token';

/**
 * `sak_<16 hex lookup id>_<43 base64url characters: 32 random bytes>`. The fixed prefix lets
 * secret scanners recognise a leaked key; the lookup id (shown in listings) finds the row without
 * the secret; only the SHA-256 of the whole key is stored. A fast hash is right here: the key has
 * 256 bits of entropy (nothing to brute-force) and is checked on every request.
 */
const API_KEY_PATTERN = /^sak_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;
export const API_KEY_PREFIX = 'sak_';

export interface NewApiKey {
  key: string;
  /** `sak_<lookup id>`: unique, not secret. */
  prefix: string;
  hash: string;
}

export function generateApiKey(): NewApiKey {
  const lookup = randomBytes(8).toString('hex');
  const key = `${API_KEY_PREFIX}${lookup}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix: `${API_KEY_PREFIX}${lookup}`, hash: sha256(key) };
}

/** The lookup prefix of a well-formed key, or undefined. */
export function apiKeyPrefix(candidate: string): string | undefined {
  const match = API_KEY_PATTERN.exec(candidate);
  return match ? `${API_KEY_PREFIX}${match[1]}` : undefined;
}
