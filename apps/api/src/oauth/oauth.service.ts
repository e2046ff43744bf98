import { AuditService } from '@app/audit';
import type { UserPrincipal } from '@app/auth';
import { ProblemException } from '@app/common';
import { OAuthAccount, TenantTransaction, User } from '@app/database';
import { HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import * as client from 'openid-client';
import { AuthService } from '../auth/auth.service';
import type { MfaChallengeDto, TokenResponseDto } from '../auth/dto/token-response.dto';
import { SessionService } from '../auth/session.service';
import type { IdentityDto } from './dto/oauth.dto';
import { OAuthClients, type AuthorizationCallback, type ExternalIdentity } from './oauth-clients';
import { OAuthStateStore, type PendingAuthorization } from './oauth-state.store';
import { ExternalAccounts } from './external-accounts';

function invalidState(): ProblemException {
  return new ProblemException({
    status: HttpStatus.BAD_REQUEST,
    slug: 'invalid-state',
    title: 'Bad Request',
    detail: 'This sign-in attempt is unknown, used, expired or for another provider: start again.',
  });
}

function toDto(row: OAuthAccount): IdentityDto {
  return {
    id: row.id,
    provider: row.provider,
    email: row.email,
    emailVerified: row.emailVerified,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
  };
}

/**
 * Sign-in and sign-up through external identity providers, and linking identities to accounts.
 *
 * An identity seen before signs its user in. A new one links to an existing account by email only
 * when the provider vouches for the address; otherwise 409 `account-exists` (sign in and link
 * explicitly). A new email signs up a new account. Provider tokens are never stored.
 */
@Injectable()
export class OAuthService {
  constructor(
    private readonly clients: OAuthClients,
    private readonly states: OAuthStateStore,
    private readonly transactions: TenantTransaction,
    private readonly auth: AuthService,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
    private readonly accounts: ExternalAccounts,
  ) {}

  /** Starts a sign-in (or, with `userId`, a link): the URL to send the browser to. */
  async authorize(providerId: string, userId?: string): Promise<string> {
    const provider = this.clients.provider(providerId);
    const state = client.randomState();
    const pending: PendingAuthorization = {
      provider: provider.id,
      intent: userId ? 'link' : 'login',
      ...(userId ? { userId } : {}),
      codeVerifier: client.randomPKCECodeVerifier(),
      nonce: client.randomNonce(),
    };
    const url = await this.clients.authorizationUrl(provider, state, pending);
    await this.states.put(state, pending);
    return url;
  }

  async signIn(providerId: string, callback: AuthorizationCallback): Promise<TokenResponseDto | MfaChallengeDto> {
    const provider = this.clients.provider(providerId);
    const identity = await this.complete(provider.id, callback, 'login');
    const user = await this.accounts.resolve(identity);
    if (!user.isActive) {
      await this.accounts.refuse(identity, 'deactivated', user.id);
      throw new ProblemException({
        status: HttpStatus.UNAUTHORIZED,
        slug: 'account-deactivated',
        title: 'Unauthorized',
        detail: 'This account is deactivated.',
      });
    }
    if (user.mfaEnabled) return this.auth.challengeMfa(user);
    return this.auth.startSession(user, `oauth:${provider.id}`, {}, { provider: provider.id });
  }

  /** Adds the identity to the signed-in user (the flow must have been started by that user). */
  async link(principal: UserPrincipal, providerId: string, callback: AuthorizationCallback): Promise<IdentityDto> {
    const provider = this.clients.provider(providerId);
    const identity = await this.complete(provider.id, callback, 'link', principal.userId);
    const row = await this.transactions.runAsSystem(async (manager) => {
      const existing = await manager.findOneBy(OAuthAccount, {
        provider: identity.provider,
        providerAccountId: identity.subject,
      });
      if (existing && existing.userId !== principal.userId) {
        throw new ProblemException({
          status: HttpStatus.CONFLICT,
          slug: 'identity-in-use',
          title: 'Conflict',
          detail: 'This identity is linked to another account.',
        });
      }
      if (existing) return existing;
      const linked = await this.accounts.insertIdentity(manager, principal.userId, identity);
      await this.accounts.record(manager, 'auth.oauth.link', principal.userId, identity);
      return linked;
    });
    return toDto(row);
  }

  async identities(userId: string): Promise<IdentityDto[]> {
    const rows = await this.transactions.runWithoutTenant((manager) =>
      manager.find(OAuthAccount, { where: { userId }, order: { createdAt: 'ASC' } }),
    );
    return rows.map(toDto);
  }

  /** Unlinks an identity; refused when it is the last way to sign in (no password, no other identity). */
  async unlink(principal: UserPrincipal, identityId: string): Promise<void> {
    await this.transactions.runAsSystem(async (manager) => {
      const user = await manager.findOne(User, {
        where: { id: principal.userId },
        lock: { mode: 'pessimistic_write' },
      });
      const row = await manager.findOneBy(OAuthAccount, { id: identityId, userId: principal.userId });
      if (!user || !row) throw new NotFoundException('No such identity.');
      const others = await manager.count(OAuthAccount, { where: { userId: principal.userId } });
      if (!user.passwordHash && others <= 1) {
        throw new ProblemException({
          status: HttpStatus.CONFLICT,
          slug: 'last-sign-in-method',
          title: 'Conflict',
          detail: 'This is your only way to sign in: set a password (reset-password) or link another provider first.',
        });
      }
      await manager.delete(OAuthAccount, { id: row.id });
      await this.audit.record(
        {
          action: 'auth.oauth.unlink',
          outcome: 'success',
          actorId: principal.userId,
          targetType: 'user',
          targetId: principal.userId,
          metadata: { provider: row.provider },
        },
        manager,
      );
    });
  }

  providers(): Array<{ id: string; name: string; type: 'oidc' | 'oauth2' }> {
    return this.clients.enabled().map((provider) => ({
      id: provider.id,
      name: provider.displayName,
      type: provider.kind === 'oidc' ? 'oidc' : 'oauth2',
    }));
  }

  /** Takes the state (single use), checks it belongs to this provider and intent, and exchanges the code. */
  private async complete(
    providerId: string,
    callback: AuthorizationCallback,
    intent: PendingAuthorization['intent'],
    userId?: string,
  ): Promise<ExternalIdentity> {
    const pending = await this.states.take(callback.state);
    if (!pending || pending.provider !== providerId || pending.intent !== intent || pending.userId !== userId) {
      await this.audit.record({
        action: intent === 'login' ? 'auth.oauth.login' : 'auth.oauth.link',
        outcome: 'failure',
        actorId: userId ?? null,
        metadata: { provider: providerId, reason: 'invalid_state' },
      });
      throw invalidState();
    }
    try {
      return await this.clients.exchange(this.clients.provider(providerId), callback, pending);
    } catch (error) {
      await this.audit.record({
        action: intent === 'login' ? 'auth.oauth.login' : 'auth.oauth.link',
        outcome: 'failure',
        actorId: userId ?? null,
        metadata: { provider: providerId, reason: 'exchange_failed' },
      });
      throw error;
    }
  }
}
