import { AuditService } from '@app/audit';
import type { UserPrincipal } from '@app/auth';
import { ProblemException } from '@app/common';
import { OAuthAccount, TenantTransaction, User } from '@app/database';
import { HttpStatus, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { AuthService } from '../auth/auth.service';
import type { MfaChallengeDto, TokenResponseDto } from '../auth/dto/token-response.dto';
import type { IdentityDto, ProviderDto } from './dto/oauth.dto';
import { ExternalAccounts } from './external-accounts';
import { INVALID_STATE } from './oauth-state.store';
import { runStrategy, strategyRequest, type SignInIntent } from './sign-in/passport-bridge';
import { SignInStrategies } from './sign-in/sign-in-strategies';
import type { ExternalIdentity, SignInStrategy } from './sign-in/sign-in-strategy';
import { providerProblem } from './sign-in/provider-errors';

export interface AuthorizationCallback {
  code: string;
  state: string;
  /** RFC 9207 issuer identification, when the provider sent one. */
  iss?: string;
}

function invalidState(): ProblemException {
  return new ProblemException({
    status: HttpStatus.BAD_REQUEST,
    slug: 'invalid-state',
    title: 'Bad Request',
    detail:
      'This sign-in attempt is unknown, used, expired, for another provider, or was started in another browser: start again.',
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
  private readonly logger = new Logger('OAuth');

  constructor(
    private readonly strategies: SignInStrategies,
    private readonly transactions: TenantTransaction,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
    private readonly accounts: ExternalAccounts,
  ) {}

  /**
   * Starts a sign-in (or, with `userId`, a link): the URL to send the browser to. `bind` gives the
   * hash of the caller's binding secret (called only for a known provider, so an unknown one sets
   * no cookie).
   */
  async authorize(providerId: string, bind: () => string, userId?: string): Promise<string> {
    const strategy = this.strategy(providerId);
    const intent: SignInIntent = {
      provider: providerId,
      intent: userId ? 'link' : 'login',
      binding: bind(),
      ...(userId ? { userId } : {}),
    };
    let outcome;
    try {
      outcome = await runStrategy(strategy, strategyRequest(intent));
    } catch (error) {
      throw providerProblem(this.logger, providerId, error);
    }
    if (outcome.kind !== 'redirect') {
      this.logger.warn(`${providerId} did not start a redirect (${outcome.kind})`);
      throw providerProblem(this.logger, providerId, new Error('the strategy did not redirect'));
    }
    return outcome.url;
  }

  async signIn(
    providerId: string,
    callback: AuthorizationCallback,
    binding: string | undefined,
  ): Promise<TokenResponseDto | MfaChallengeDto> {
    const provider = this.strategy(providerId).signInProvider;
    const identity = await this.complete(provider.id, callback, binding, 'login');
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
    const challenge = await this.auth.secondFactorChallenge(user);
    if (challenge) return challenge;
    return this.auth.startSession(user, `oauth:${provider.id}`, {}, { provider: provider.id });
  }

  /** Adds the identity to the signed-in user (the flow must have been started by that user). */
  async link(
    principal: UserPrincipal,
    providerId: string,
    callback: AuthorizationCallback,
    binding: string | undefined,
  ): Promise<IdentityDto> {
    const provider = this.strategy(providerId).signInProvider;
    const identity = await this.complete(provider.id, callback, binding, 'link', principal.userId);
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

  providers(): ProviderDto[] {
    return this.strategies
      .list()
      .map((provider) => ({ id: provider.id, name: provider.displayName, type: provider.type }));
  }

  /** The strategy with this id, or 404 (unknown and disabled providers look the same). */
  private strategy(id: string): SignInStrategy {
    const found = this.strategies.get(id);
    if (!found) throw new NotFoundException('No such sign-in provider.');
    return found;
  }

  /**
   * Runs the strategy on what the provider sent back: the state is spent and must belong to this
   * provider, purpose and user; then the strategy exchanges the code and says who signed in.
   */
  private async complete(
    providerId: string,
    callback: AuthorizationCallback,
    binding: string | undefined,
    purpose: SignInIntent['intent'],
    userId?: string,
  ): Promise<ExternalIdentity> {
    const intent: SignInIntent = {
      provider: providerId,
      intent: purpose,
      ...(binding ? { binding } : {}),
      ...(userId ? { userId } : {}),
    };
    const refused = (reason: string) =>
      this.audit.record({
        action: purpose === 'login' ? 'auth.oauth.login' : 'auth.oauth.link',
        outcome: 'failure',
        actorId: userId ?? null,
        metadata: { provider: providerId, reason },
      });
    const query: Record<string, string> = { code: callback.code, state: callback.state };
    if (callback.iss) query.iss = callback.iss;
    let outcome;
    try {
      outcome = await runStrategy(this.strategy(providerId), strategyRequest(intent, { query }));
    } catch (error) {
      await refused('exchange_failed');
      throw providerProblem(this.logger, providerId, error);
    }
    if (outcome.kind === 'success' && isIdentity(outcome.user, providerId)) return outcome.user;
    const challenge =
      outcome.kind === 'fail' ? (outcome.challenge as { message?: unknown; reason?: unknown } | undefined) : undefined;
    if (challenge?.message === INVALID_STATE.message) {
      // Another browser's flow is what login CSRF looks like: recorded apart from a stale state.
      await refused(challenge.reason === 'other-browser' ? 'other_browser' : 'invalid_state');
      throw invalidState();
    }
    await refused('exchange_failed');
    throw providerProblem(this.logger, providerId, new Error(`the strategy ended with ${outcome.kind}`));
  }
}

/** What a strategy handed to `success` is an identity of its own provider (never another's). */
function isIdentity(value: unknown, providerId: string): value is ExternalIdentity {
  if (typeof value !== 'object' || value === null) return false;
  const identity = value as Partial<ExternalIdentity>;
  return (
    identity.provider === providerId &&
    typeof identity.subject === 'string' &&
    identity.subject.length > 0 &&
    identity.subject.length <= 255 &&
    (identity.email === null || typeof identity.email === 'string') &&
    typeof identity.emailVerified === 'boolean'
  );
}
