import type { SecretBox } from '@app/auth';

/** Signing secrets are sealed at rest, bound to their endpoint (a sealed value copied to another row does not open). */
export function sealSecret(box: SecretBox, endpointId: string, secret: string): string {
  return box.seal(secret, `webhook-endpoint:${endpointId}`);
}

export function openSecret(box: SecretBox, endpointId: string, sealed: string): string {
  return box.open(sealed, `webhook-endpoint:${endpointId}`);
}
