import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** SHA-256 (hex) of a high-entropy secret: enough for tokens that are random, not chosen by people. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** A new random secret (32 bytes, base64url) with a readable prefix, and its stored hash. */
export function generateSecret(prefix: string, bytes = 32): { token: string; hash: string } {
  const token = `${prefix}${randomBytes(bytes).toString('base64url')}`;
  return { token, hash: sha256(token) };
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
