import { AuditService } from '@app/audit';
import { cleanDisplayName, newId, ProblemException, spoofingCharacter } from '@app/common';
import { OAuthAccount, TenantTransaction, User } from '@app/database';
import { BadRequestException, ConflictException, HttpStatus, Injectable } from '@nestjs/common';
import { Raw, type EntityManager } from 'typeorm';
import { SessionService } from '../auth/session.service';
import type { ExternalIdentity } from './sign-in/sign-in-strategy';

/**
 * Who an external identity is here, for every sign-in strategy (OAuth providers, OIDC issuers,
 * an organization's SAML connection): the one place that decides when an identity joins an
 * existing account, so that no strategy can link by an email its provider does not vouch for.
 */
@Injectable()
export class ExternalAccounts {
  constructor(
    private readonly transactions: TenantTransaction,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
  ) {}

  /**
   * The account for this identity: the linked one; else, if the provider vouches for the email,
   * the account with that email (linked now); else a new account (its email verified only if the
   * provider vouches). An existing account is never joined on an email the provider does not
   * vouch for: 409 account-exists.
   */
  async resolve(identity: ExternalIdentity): Promise<User> {
    // An address with direction-changing or invisible characters would show other people something
    // other than what it is: treated like no address at all.
    if (!identity.email || spoofingCharacter(identity.email) !== undefined) {
      await this.refuse(identity, identity.email ? 'spoofing_email' : 'no_email');
      throw new BadRequestException('The provider did not share an email address; it is needed to sign in.');
    }
    const email = identity.email;
    const outcome = await this.transactions.runAsSystem(async (manager) => {
      const linked = await manager.findOne(OAuthAccount, {
        where: { provider: identity.provider, providerAccountId: identity.subject },
        relations: { user: true },
      });
      if (linked?.user) {
        await manager.update(
          OAuthAccount,
          { id: linked.id },
          { lastUsedAt: new Date(), email, emailVerified: identity.emailVerified },
        );
        return { user: linked.user, revoked: [] as string[] };
      }
      const existing = await manager.findOne(User, {
        where: { email: Raw((column) => `lower(${column}) = :email`, { email }) },
        lock: { mode: 'pessimistic_write' },
      });
      if (existing) {
        if (!identity.emailVerified) return { conflict: true as const };
        return this.linkByVerifiedEmail(manager, existing, identity);
      }
      const user = Object.assign(new User(), {
        id: newId(),
        email,
        emailVerifiedAt: identity.emailVerified ? new Date() : null,
        passwordHash: null,
        // A provider's name is shown to other people too: the same rule as a typed one, applied by cleaning.
        fullName: cleanDisplayName(identity.name)?.slice(0, 200) ?? null,
      });
      await manager.insert(User, user);
      await this.insertIdentity(manager, user.id, identity);
      await this.record(manager, 'auth.oauth.signup', user.id, identity);
      return { user: await manager.findOneByOrFail(User, { id: user.id }), revoked: [] as string[] };
    });
    if ('conflict' in outcome) {
      await this.refuse(identity, 'email_not_vouched');
      throw new ProblemException({
        status: HttpStatus.CONFLICT,
        slug: 'account-exists',
        title: 'Conflict',
        detail:
          'An account with this email exists, and the provider does not vouch for the address: sign in to that account and link this provider from it.',
      });
    }
    await this.sessions.broadcastRevocation(outcome.revoked);
    return outcome.user;
  }

  /**
   * The provider proves the address belongs to whoever signs in. If the local account never proved
   * it, what it holds may belong to someone who claimed the address first (account pre-hijacking):
   * its password, its sessions and its identities whose email no provider vouched for are
   * discarded, and the address is now verified.
   */
  private async linkByVerifiedEmail(manager: EntityManager, user: User, identity: ExternalIdentity) {
    let revoked: string[] = [];
    if (!user.emailVerifiedAt) {
      revoked = await this.sessions.revokeAll(user.id, 'unverified_account_claimed', undefined, manager);
      await manager.update(User, { id: user.id }, { emailVerifiedAt: new Date(), passwordHash: null });
      await manager.delete(OAuthAccount, { userId: user.id, emailVerified: false });
    }
    await this.insertIdentity(manager, user.id, identity);
    await this.record(manager, 'auth.oauth.link', user.id, identity, {
      by: 'verified_email',
      ...(user.emailVerifiedAt ? {} : { claimedUnverifiedAccount: true }),
    });
    return { user: await manager.findOneByOrFail(User, { id: user.id }), revoked };
  }

  async insertIdentity(manager: EntityManager, userId: string, identity: ExternalIdentity) {
    const row = Object.assign(new OAuthAccount(), {
      id: newId(),
      userId,
      provider: identity.provider,
      providerAccountId: identity.subject,
      email: identity.email,
      emailVerified: identity.emailVerified,
      lastUsedAt: new Date(),
    });
    try {
      await manager.insert(OAuthAccount, row);
    } catch (error) {
      if ((error as { code?: string }).code === '23505')
        throw new ConflictException('This identity was linked meanwhile.');
      throw error;
    }
    return manager.findOneByOrFail(OAuthAccount, { id: row.id });
  }

  /** A successful sign-up or link, in the unit of work that made it. */
  record(
    manager: EntityManager,
    action: string,
    userId: string,
    identity: ExternalIdentity,
    metadata: Record<string, unknown> = {},
  ): Promise<void> {
    return this.audit.record(
      {
        action,
        outcome: 'success',
        actorId: userId,
        targetType: 'user',
        targetId: userId,
        metadata: { provider: identity.provider, ...metadata },
      },
      manager,
    );
  }

  /** A refused sign-in, in the log of the strategy's family (`auth.oauth.login`, `auth.sso.login`). */
  refuse(identity: ExternalIdentity, reason: string, userId?: string): Promise<void> {
    return this.audit.record({
      action: identity.provider.startsWith('saml:') ? 'auth.sso.login' : 'auth.oauth.login',
      outcome: 'failure',
      actorId: userId ?? null,
      metadata: { provider: identity.provider, reason },
    });
  }
}
