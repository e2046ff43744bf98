import { AuditService } from '@app/audit';
import { SessionRegistry, type UserPrincipal } from '@app/auth';
import { ProblemException } from '@app/common';
import { OAuthAccount, OneTimeToken, Passkey, TenantTransaction, User } from '@app/database';
import { PermissionResolver, PlatformAdmins, SYSTEM_ROLES } from '@app/rbac';
import { HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import { SessionService } from '../auth/session.service';
import { StepUpService } from '../auth/step-up.service';
import { MembersService } from '../members/members.service';

/** Organizations where this person is the only active owner. */
const SOLE_OWNER_SQL = `
  SELECT o.id, o.name FROM organizations o
    JOIN role_assignments mine ON mine.organization_id = o.id AND mine.user_id = $1
                              AND mine.role_id = $2 AND mine.team_id IS NULL
   WHERE NOT EXISTS (
     SELECT 1 FROM role_assignments other JOIN users u ON u.id = other.user_id
      WHERE other.organization_id = o.id AND other.role_id = $2 AND other.team_id IS NULL
        AND other.user_id <> $1 AND u.is_active)
   ORDER BY o.name`;

/** The address an erased account keeps: unique, not anyone's, never deliverable (RFC 2606 .invalid). */
export function erasedEmail(userId: string): string {
  return `erased-${userId}@erased.invalid`;
}

/**
 * Erasure of one's own account (GDPR art. 17), in one transaction: every membership ended the way
 * leaving does (API keys made there revoked, domain events and webhooks for each), sessions
 * revoked (their addresses and agents cleared), passkeys, linked identities, one-time tokens, SCIM
 * records, LLM requests and invitations to the address
 * deleted, mail not yet handed to the queue dropped, the user row reduced to a pseudonym
 * (its id), and the personal data of every audit row about them erased while the chain still
 * verifies. Refused while they are the last owner of an organization, naming each one.
 */
@Injectable()
export class AccountErasureService {
  constructor(
    private readonly transactions: TenantTransaction,
    private readonly stepUp: StepUpService,
    private readonly members: MembersService,
    private readonly sessions: SessionService,
    private readonly registry: SessionRegistry,
    private readonly permissions: PermissionResolver,
    private readonly admins: PlatformAdmins,
    private readonly audit: AuditService,
  ) {}

  async erase(principal: UserPrincipal): Promise<void> {
    await this.stepUp.assertRecent(principal, 'user.erase');
    const userId = principal.userId;
    const { sessionIds, organizations } = await this.transactions.runAsSystem(async (manager) => {
      const user = await manager.findOne(User, { where: { id: userId }, lock: { mode: 'pessimistic_write' } });
      if (!user || user.erasedAt) throw new NotFoundException('No such account.');
      const soleOwner = await manager.query<Array<{ id: string; name: string }>>(SOLE_OWNER_SQL, [
        userId,
        SYSTEM_ROLES.owner.id,
      ]);
      if (soleOwner.length > 0) {
        throw new ProblemException({
          status: HttpStatus.CONFLICT,
          slug: 'last-owner',
          title: 'Conflict',
          detail: `You are the last owner of ${soleOwner.map((org) => `"${org.name}"`).join(', ')}: make someone else owner or delete ${soleOwner.length > 1 ? 'them' : 'it'} first. Nothing was erased.`,
          extensions: { organizations: soleOwner },
        });
      }
      if (user.isPlatformAdmin) {
        const others = await manager.query<unknown[]>(
          'SELECT 1 FROM users WHERE is_platform_admin AND is_active AND id <> $1 LIMIT 1',
          [userId],
        );
        if (others.length === 0) {
          throw new ProblemException({
            status: HttpStatus.CONFLICT,
            slug: 'last-platform-admin',
            title: 'Conflict',
            detail: 'The installation needs at least one platform admin: grant someone else first. Nothing was erased.',
          });
        }
      }
      const memberships = await manager.query<Array<{ organization_id: string }>>(
        'SELECT organization_id FROM organization_members WHERE user_id = $1',
        [userId],
      );
      for (const { organization_id: orgId } of memberships) {
        await this.members.removeMembership(manager, orgId, userId, { actorId: userId }, 'member.leave', {
          reason: 'account-erased',
        });
      }
      const revoked = await this.sessions.revokeAll(userId, 'erased', undefined, manager);
      // Where and from what they signed in (and, as an admin, why they acted for others).
      await manager.query(
        'UPDATE sessions SET ip = NULL, user_agent = NULL, impersonation_reason = NULL WHERE user_id = $1 OR impersonator_id = $1',
        [userId],
      );
      await manager.query('UPDATE security_events SET last_ip = NULL WHERE actor_id = $1', [userId]);
      // What they asked the LLM, and its answers, in every organization.
      await manager.query('DELETE FROM llm_jobs WHERE requested_by = $1', [userId]);
      await manager.delete(Passkey, { userId });
      await manager.delete(OAuthAccount, { userId });
      await manager.delete(OneTimeToken, { userId });
      await manager.query('DELETE FROM scim_users WHERE user_id = $1', [userId]);
      // Exports (ready ones hold a copy of everything); a pending one's job then finds nothing to do.
      await manager.query('DELETE FROM account_exports WHERE user_id = $1', [userId]);
      // Invitations to the address, pending or accepted (the membership's history is in the audit log).
      await manager.query('DELETE FROM invitations WHERE lower(email) = lower($1)', [user.email]);
      // Work not yet handed to the queue that names them (mail to the address, mostly) is dropped;
      // what a worker already holds finds no account (the address is gone) or an erased one.
      // strpos, not LIKE: an address may hold % or _, which must not match other people's mail.
      await manager.query(
        `DELETE FROM outbox WHERE published_at IS NULL
            AND (strpos(payload::text, $1) > 0 OR strpos(lower(payload::text), lower($2)) > 0)`,
        [userId, JSON.stringify(user.email).slice(1, -1)],
      );
      await manager.update(
        User,
        { id: userId },
        {
          email: erasedEmail(userId),
          emailVerifiedAt: null,
          passwordHash: null,
          fullName: null,
          isActive: false,
          isPlatformAdmin: false,
          failedLoginAttempts: 0,
          lockedUntil: null,
          attemptReservedAt: null,
          lastLoginAt: null,
          mfaEnabled: false,
          totpSecretEncrypted: null,
          totpLastUsedStep: null,
          recoveryCodeHashes: [],
          erasedAt: new Date(),
        },
      );
      await this.audit.record(
        {
          action: 'user.erase',
          outcome: 'success',
          actorId: userId,
          targetType: 'user',
          targetId: userId,
          metadata: { organizationsLeft: memberships.length, sessionsRevoked: revoked.length },
        },
        manager,
      );
      // Last: this request's own rows (with its address and user agent) are erased too.
      await manager.query('SELECT audit_log_erase_subject($1)', [userId]);
      return { sessionIds: revoked, organizations: memberships.map((row) => row.organization_id) };
    });
    await this.registry.revokeUser(userId, sessionIds);
    await this.admins.invalidate(userId);
    await this.permissions.invalidateUser(userId);
    for (const orgId of organizations) await this.permissions.invalidate(orgId, userId);
  }
}
