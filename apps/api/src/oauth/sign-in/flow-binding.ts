import { AppConfig } from '@app/config';
import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readCookie } from '../../common/cookies';

const SECRET = /^[A-Za-z0-9_-]{43,128}$/;

export function bindingHash(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** Whether what the callback presented is what the flow was started with. */
export function sameBinding(stored: string | undefined, presented: string | undefined): boolean {
  if (!stored || !presented) return false;
  const a = Buffer.from(stored);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Binds every sign-in flow to the user agent that started it (RFC 9700 §4.7, login CSRF): whoever
 * finishes a flow must show the secret its start was bound to. Two ways:
 *
 * - a cookie: the browser's own random secret (`__Host-saas_flow` on https, `saas_flow` on plain
 *   http), HttpOnly, set when a flow starts (kept when the browser already has one, so flows in
 *   two tabs both work) and sent back at the callback;
 * - a front end that keeps a secret of its own sends `bindingChallenge` (base64url SHA-256 of a
 *   random verifier) at the start and `bindingVerifier` at the callback.
 *
 * Only a hash is stored with the flow.
 */
@Injectable()
export class FlowBinding {
  readonly cookieName: string;
  private readonly secure: boolean;
  private readonly maxAge: number;

  constructor(config: AppConfig) {
    this.secure = config.appUrl.startsWith('https:');
    this.cookieName = this.secure ? '__Host-saas_flow' : 'saas_flow';
    this.maxAge = Math.max(config.oauth.stateTtl, 600);
  }

  /** At a flow's start: the hash to keep with it (the challenge as given, else the browser's cookie's, set if new). */
  bind(request: FastifyRequest, reply: FastifyReply, challenge?: string): string {
    if (challenge) return challenge;
    let secret = readCookie(request.headers.cookie, this.cookieName);
    if (!secret || !SECRET.test(secret)) secret = randomBytes(32).toString('base64url');
    // SameSite=None on https: an IdP's form post to the ACS is a cross-site request, and the
    // cookie is no credential (it only proves which browser started a flow). Plain http cannot
    // have None, so Lax there (development, same site).
    const attributes = [
      `${this.cookieName}=${secret}`,
      'Path=/',
      `Max-Age=${this.maxAge}`,
      'HttpOnly',
      ...(this.secure ? ['Secure', 'SameSite=None'] : ['SameSite=Lax']),
    ];
    void reply.header('set-cookie', attributes.join('; '));
    return bindingHash(secret);
  }

  /** At the callback: the hash of what the client shows (the verifier, else the cookie); undefined when nothing. */
  presented(request: FastifyRequest, verifier?: string): string | undefined {
    const secret = verifier ?? readCookie(request.headers.cookie, this.cookieName);
    return secret && SECRET.test(secret) ? bindingHash(secret) : undefined;
  }
}
