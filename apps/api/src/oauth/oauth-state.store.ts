import { AppConfig } from '@app/config';
import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SingleUseStore } from '../common/single-use-store';
import { sameBinding } from './sign-in/flow-binding';
import type { SignInIntent, StrategyRequest } from './sign-in/passport-bridge';

/** What the api remembers between sending the browser to a provider and its coming back. */
export interface PendingAuthorization extends SignInIntent {
  /** PKCE verifier, when the strategy uses PKCE. */
  codeVerifier?: string;
  /** OpenID Connect nonce, when the strategy sends one. */
  nonce?: string;
}

/** passport-oauth2's state-store contract (the PKCE form: it hands us the verifier to keep). */
export interface PassportStateStore {
  store(
    req: StrategyRequest,
    verifier: string | undefined,
    state: unknown,
    meta: unknown,
    done: (error: Error | null, handle?: string) => void,
  ): void;
  verify(
    req: StrategyRequest,
    handle: string,
    done: (error: Error | null, verifier?: string | false, info?: unknown) => void,
  ): void;
}

/** What a store's `verify` reports for a state that is unknown, spent, expired or another flow's. */
export const INVALID_STATE = { message: 'invalid-state' } as const;

/** Why a state was refused: unknown (or spent, or expired), another flow's, or brought by another browser. */
export type StateRefusal = 'unknown' | 'mismatch' | 'other-browser';

/**
 * Single-use `state` values (OAUTH_STATE_TTL, ten minutes by default), in Redis or in memory
 * (see SingleUseStore).
 */
@Injectable()
export class OAuthStateStore extends SingleUseStore {
  private readonly ttlMs: number;

  constructor(config: AppConfig) {
    super(config, 'oauth-state');
    this.ttlMs = config.oauth.stateTtl * 1000;
  }

  /** Remembers a new flow and returns its `state` (43 url-safe characters, single use). */
  async begin(
    intent: SignInIntent,
    extras: Pick<PendingAuthorization, 'codeVerifier' | 'nonce'> = {},
  ): Promise<string> {
    const state = randomBytes(32).toString('base64url');
    const pending: PendingAuthorization = { provider: intent.provider, intent: intent.intent, ...extras };
    if (intent.userId) pending.userId = intent.userId;
    if (intent.binding) pending.binding = intent.binding;
    await this.put('flow', state, pending, this.ttlMs);
    return state;
  }

  /**
   * Takes the flow's state (spent whatever the outcome) and returns what was kept, only when it
   * was started for the same provider, purpose and user and the callback shows the binding the
   * start kept; otherwise why not.
   */
  async check(
    intent: SignInIntent,
    state: unknown,
  ): Promise<{ pending: PendingAuthorization } | { refused: StateRefusal }> {
    if (typeof state !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(state)) return { refused: 'unknown' };
    const pending = await this.take<PendingAuthorization>('flow', state);
    if (!pending) return { refused: 'unknown' };
    const same =
      pending.provider === intent.provider && pending.intent === intent.intent && pending.userId === intent.userId;
    if (!same) return { refused: 'mismatch' };
    // Deny by default: a flow with no binding (started outside the api's routes) finishes nowhere.
    if (!sameBinding(pending.binding, intent.binding)) return { refused: 'other-browser' };
    return { pending };
  }

  /** This store in passport-oauth2's shape (`store:` option), PKCE verifier included. */
  forPassport(): PassportStateStore {
    return {
      store: (req, verifier, _state, _meta, done) => {
        this.begin(req.signIn, verifier ? { codeVerifier: verifier } : {}).then(
          (handle) => done(null, handle),
          (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
        );
      },
      verify: (req, handle, done) => {
        this.check(req.signIn, handle).then(
          (result) =>
            'pending' in result
              ? done(null, result.pending.codeVerifier ?? (true as never), {})
              : done(null, false, { ...INVALID_STATE, reason: result.refused }),
          (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
        );
      },
    };
  }
}
