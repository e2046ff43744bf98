import { AuditService } from '@app/audit';
import { generateSecret, sha256, type UserPrincipal } from '@app/auth';
import { newId, ProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { Invitation, Organization, OrganizationMember, Role, TenantTransaction, User } from '@app/database';
import { PermissionResolver, SYSTEM_ROLES } from '@app/rbac';
import { HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import { In, IsNull, LessThanOrEqual, MoreThan, Not, Raw, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { AccountMailer } from '../auth/account-mailer';
import { skipOf, type Page } from '../common/page-query.dto';
import { findShown, shown, type ShownRow } from '../common/shown-fields';
import type { MemberRoleDto } from '../members/dto/member.dto';
import { MembersService } from '../members/members.service';
import type {
  CreateInvitationDto,
  InvitationDto,
  InvitationQueryDto,
  InvitationStatus,
  ReceivedInvitationDto,
} from './dto/invitation.dto';
import type { MembershipDto } from './dto/membership.dto';

const TOKEN_PREFIX = 'inv_';

/** The audit actions that each sent an invitation mail: what the daily bound counts. */
const MAILED_ACTIONS = ['invitation.create', 'invitation.resend'];

/** Raised inside the unit of work (which then rolls back); audited and answered outside it. */
class DailyBoundReached extends Error {
  constructor(
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super('daily invitation bound reached');
  }
}

type AcceptOutcome = { refused: string; error: ProblemException } | { membership: MembershipDto };

function problem(status: HttpStatus, slug: string, title: string, detail: string): ProblemException {
  return new ProblemException({ status, slug, title, detail });
}

export function invitationStatus(
  invitation: Pick<Invitation, 'acceptedAt' | 'revokedAt' | 'expiresAt'>,
  now = Date.now(),
): InvitationStatus {
  if (invitation.acceptedAt) return 'accepted';
  if (invitation.revokedAt) return 'revoked';
  return invitation.expiresAt.getTime() <= now ? 'expired' : 'pending';
}

/** What an invitation's listing shows and reads: never its token's hash. */
const INVITATION_SHOWN = shown<Invitation>()(
  'id',
  'organizationId',
  'email',
  'roleIds',
  'invitedByUserId',
  'createdAt',
  'expiresAt',
  'acceptedAt',
  'revokedAt',
);

/** Pending invitations addressed to `email`: not used, not revoked, not expired. */
function pendingFor(email: string): FindOptionsWhere<Invitation> {
  return {
    email: Raw((column) => `lower(${column}) = :email`, { email: email.toLowerCase() }),
    acceptedAt: IsNull(),
    revokedAt: IsNull(),
    expiresAt: MoreThan(new Date()),
  };
}

/**
 * Invitations into an organization. The token is mailed, never returned by the api, and stored
 * as its SHA-256. Whoever invites must be able to grant the invited roles (checked again on resend,
 * and against the inviter's current permissions on acceptance), and the invitee's verified email
 * must be the invited address.
 */
@Injectable()
export class InvitationsService {
  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly members: MembersService,
    private readonly permissions: PermissionResolver,
    private readonly audit: AuditService,
    private readonly mailer: AccountMailer,
  ) {}

  async create(actor: UserPrincipal, orgId: string, dto: CreateInvitationDto): Promise<InvitationDto> {
    const roleIds = dto.roleIds && dto.roleIds.length > 0 ? dto.roleIds : [SYSTEM_ROLES.member.id];
    const { token, hash } = generateSecret(TOKEN_PREFIX);
    const { view } = await this.refusedOverDailyBound(actor, orgId, 'invitation.create', { email: dto.email }, () =>
      this.transactions.run(orgId, async (manager) => {
        await this.members.assertGrantable(manager, actor.userId, orgId, roleIds);
        const existing = await manager
          .createQueryBuilder(OrganizationMember, 'm')
          .innerJoin(User, 'u', 'u.id = m.user_id')
          .where('m.organization_id = :orgId AND lower(u.email) = :email', { orgId, email: dto.email })
          .getExists();
        if (existing) {
          throw problem(HttpStatus.CONFLICT, 'already-member', 'Conflict', 'This address belongs to a member already.');
        }
        // One open invitation per address, and the daily bound: serialise on the organization row so
        // two requests cannot both pass either check.
        await manager.query('SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [orgId]);
        await this.assertWithinDailyBound(manager, orgId);
        if (await manager.existsBy(Invitation, { organizationId: orgId, ...pendingFor(dto.email) })) {
          throw problem(
            HttpStatus.CONFLICT,
            'already-invited',
            'Conflict',
            'This address has a pending invitation: resend or revoke it.',
          );
        }
        const invitation: Invitation = Object.assign(new Invitation(), {
          id: newId(),
          createdAt: new Date(),
          organizationId: orgId,
          email: dto.email,
          roleIds,
          invitedByUserId: actor.userId,
          tokenHash: hash,
          expiresAt: this.expiry(),
          acceptedAt: null,
          revokedAt: null,
        });
        await manager.insert(Invitation, invitation);
        await this.record(manager, actor.userId, orgId, 'invitation.create', invitation.id, {
          email: dto.email,
          roleIds,
        });
        const mail = await this.mailContext(manager, orgId, actor);
        await this.mailer.invitation(manager, dto.email, token, mail.organizationName, mail.inviterName);
        return { view: (await this.describe(manager, [invitation]))[0] };
      }),
    );
    return required(view);
  }

  async list(orgId: string, query: InvitationQueryDto & { offset?: number }): Promise<Page<InvitationDto>> {
    return this.transactions.run(orgId, async (manager) => {
      const [rows, total] = await manager.findAndCount(Invitation, {
        select: INVITATION_SHOWN.select,
        where: { organizationId: orgId, ...statusFilter(query.status) },
        order: { createdAt: 'DESC', id: 'DESC' },
        skip: skipOf(query),
        take: query.pageSize,
      });
      return { items: await this.describe(manager, rows), total, page: query.page, pageSize: query.pageSize };
    });
  }

  async get(orgId: string, id: string): Promise<InvitationDto> {
    return this.transactions.run(orgId, async (manager) => {
      const invitation = await findShown(manager, Invitation, INVITATION_SHOWN, orgId, id, 'No such invitation.');
      return required((await this.describe(manager, [invitation]))[0]);
    });
  }

  /** Revokes a pending (or expired) invitation. Revoking twice is harmless; an accepted one is history (409). */
  async revoke(actor: UserPrincipal, orgId: string, id: string): Promise<void> {
    await this.transactions.run(orgId, async (manager) => {
      const invitation = await this.lock(manager, orgId, id);
      if (invitation.acceptedAt) throw this.used();
      if (invitation.revokedAt) return;
      await manager.update(Invitation, { id }, { revokedAt: new Date() });
      await this.record(manager, actor.userId, orgId, 'invitation.revoke', id, { email: invitation.email });
    });
  }

  /** A fresh token and a fresh validity period; the old link stops working. */
  async resend(actor: UserPrincipal, orgId: string, id: string): Promise<InvitationDto> {
    const { token, hash } = generateSecret(TOKEN_PREFIX);
    const { view } = await this.refusedOverDailyBound(actor, orgId, 'invitation.resend', { invitationId: id }, () =>
      this.transactions.run(orgId, async (manager) => {
        // The organization row first (as create takes it), then the invitation's.
        await manager.query('SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [orgId]);
        const invitation = await this.lock(manager, orgId, id);
        if (invitation.acceptedAt) throw this.used();
        if (invitation.revokedAt) throw this.revoked();
        await this.assertWithinDailyBound(manager, orgId);
        const roleIds = await this.liveRoleIds(manager, invitation.roleIds);
        // Whoever sends the link again vouches for its roles now.
        await this.members.assertGrantable(manager, actor.userId, orgId, roleIds);
        Object.assign(invitation, { tokenHash: hash, expiresAt: this.expiry(), invitedByUserId: actor.userId });
        await manager.update(
          Invitation,
          { id },
          { tokenHash: hash, expiresAt: invitation.expiresAt, invitedByUserId: actor.userId },
        );
        await this.record(manager, actor.userId, orgId, 'invitation.resend', id, { email: invitation.email });
        const mail = await this.mailContext(manager, orgId, actor);
        await this.mailer.invitation(manager, invitation.email, token, mail.organizationName, mail.inviterName);
        return { view: (await this.describe(manager, [invitation]))[0] };
      }),
    );
    return required(view);
  }

  /** Pending invitations to the caller's verified email address, across organizations. */
  async received(principal: UserPrincipal): Promise<ReceivedInvitationDto[]> {
    const user = await this.verifiedUser(principal);
    // The invitee is not a member yet, so no tenant scope can show these: a deliberate system read,
    // filtered to the caller's own verified address.
    return this.transactions.runAsSystem(async (manager) => {
      const rows = await manager.find(Invitation, {
        // What the answer shows, of the invitation, its organization and its inviter (their name):
        // not the invitation's token hash, nor any of the inviter's credentials.
        select: {
          id: true,
          organizationId: true,
          roleIds: true,
          createdAt: true,
          expiresAt: true,
          organization: { id: true, name: true, slug: true },
          invitedBy: { id: true, fullName: true },
        },
        where: pendingFor(user.email),
        relations: { organization: true, invitedBy: true },
        order: { createdAt: 'DESC' },
        take: 100,
      });
      const roles = await this.rolesById(
        manager,
        rows.flatMap((row) => row.roleIds),
      );
      return rows.map((row) => ({
        id: row.id,
        organization: {
          id: row.organizationId,
          name: row.organization?.name ?? '',
          slug: row.organization?.slug ?? '',
        },
        roles: row.roleIds.flatMap((roleId) => roles.get(roleId) ?? []),
        invitedByName: row.invitedBy?.fullName ?? null,
        createdAt: row.createdAt,
        expiresAt: row.expiresAt,
      }));
    });
  }

  /** Accepts with the mailed token. */
  async acceptToken(principal: UserPrincipal, token: string): Promise<MembershipDto> {
    const found = await this.transactions.runAsSystem((manager) =>
      manager.findOne(Invitation, { where: { tokenHash: sha256(token) }, select: { id: true, organizationId: true } }),
    );
    if (!found) {
      throw problem(
        HttpStatus.NOT_FOUND,
        'invitation-not-found',
        'Not Found',
        'This invitation link is not valid (it may have been replaced by a newer one).',
      );
    }
    return this.accept(principal, found.organizationId, found.id);
  }

  /** Accepts one of the invitations listed by GET /invitations (the verified address is the proof). */
  async acceptById(principal: UserPrincipal, id: string): Promise<MembershipDto> {
    const user = await this.verifiedUser(principal);
    const found = await this.transactions.runAsSystem((manager) =>
      manager.findOne(Invitation, {
        where: { id, email: Raw((column) => `lower(${column}) = :email`, { email: user.email.toLowerCase() }) },
        select: { id: true, organizationId: true },
      }),
    );
    if (!found) throw new NotFoundException('No such invitation.');
    return this.accept(principal, found.organizationId, found.id);
  }

  private async accept(principal: UserPrincipal, orgId: string, id: string): Promise<MembershipDto> {
    const refusal = async (reason: string, error: ProblemException): Promise<never> => {
      await this.audit.record({
        action: 'invitation.accept',
        outcome: 'failure',
        organizationId: orgId,
        actorId: principal.userId,
        targetType: 'invitation',
        targetId: id,
        metadata: { reason },
      });
      throw error;
    };
    const outcome = await this.transactions.run<AcceptOutcome>(orgId, async (manager) => {
      const invitation = await this.lock(manager, orgId, id);
      const user = await manager.findOneByOrFail(User, { id: principal.userId });
      const status = invitationStatus(invitation);
      if (status === 'revoked') return { refused: 'revoked', error: this.revoked() };
      if (status === 'accepted') return { refused: 'used', error: this.used() };
      if (status === 'expired') {
        return {
          refused: 'expired',
          error: problem(
            HttpStatus.GONE,
            'invitation-expired',
            'Gone',
            'This invitation has expired: ask for a new one.',
          ),
        };
      }
      if (!user.emailVerifiedAt) {
        return {
          refused: 'email_not_verified',
          error: problem(
            HttpStatus.FORBIDDEN,
            'email-not-verified',
            'Email not verified',
            'Verify your email address before accepting an invitation.',
          ),
        };
      }
      if (user.email.toLowerCase() !== invitation.email.toLowerCase()) {
        return {
          refused: 'email_mismatch',
          error: problem(
            HttpStatus.FORBIDDEN,
            'invitation-email-mismatch',
            'Forbidden',
            'This invitation was sent to another email address: sign in with that address to accept it.',
          ),
        };
      }
      if (await manager.existsBy(OrganizationMember, { organizationId: orgId, userId: user.id })) {
        return {
          refused: 'already_member',
          error: problem(HttpStatus.CONFLICT, 'already-member', 'Conflict', 'You are a member of this organization.'),
        };
      }
      const live = await this.liveRoleIds(manager, invitation.roleIds);
      const roleIds = live.length > 0 ? live : [SYSTEM_ROLES.member.id];
      // No escalation by invitation: the inviter must still be able to grant every invited role.
      const inviterLacks = invitation.invitedByUserId
        ? await this.inviterLacks(manager, invitation.invitedByUserId, orgId, roleIds)
        : true;
      if (inviterLacks) {
        return {
          refused: 'stale',
          error: problem(
            HttpStatus.CONFLICT,
            'invitation-stale',
            'Conflict',
            'Whoever invited you can no longer grant these roles: ask for a new invitation.',
          ),
        };
      }
      await this.members.insertMembership(manager, orgId, user.id, roleIds, invitation.invitedByUserId);
      const acceptedAt = new Date();
      await manager.update(Invitation, { id }, { acceptedAt });
      await this.record(manager, user.id, orgId, 'invitation.accept', id, { roleIds });
      // The membership itself, as every other way in audits it (and publishes member.added).
      await this.audit.change(manager, 'member.add', orgId, { actorId: user.id }, ['user', user.id], {
        roleIds,
        via: 'invitation',
        invitationId: id,
      });
      const organization = await manager.findOneByOrFail(Organization, { id: orgId });
      const roles = await this.rolesById(manager, roleIds);
      return {
        membership: {
          organization: { id: organization.id, name: organization.name, slug: organization.slug },
          roles: roleIds.flatMap((roleId) => roles.get(roleId) ?? []),
          joinedAt: acceptedAt,
        },
      };
    });
    if ('refused' in outcome) return refusal(outcome.refused, outcome.error);
    await this.permissions.invalidate(orgId, principal.userId);
    return outcome.membership;
  }

  private async inviterLacks(manager: EntityManager, inviterId: string, orgId: string, roleIds: string[]) {
    const carried = await manager.query<Array<{ permission_key: string }>>(
      'SELECT permission_key FROM role_permissions WHERE role_id = ANY($1)',
      [roleIds],
    );
    const lacking = await this.permissions.lacking(
      inviterId,
      orgId,
      carried.map((row) => row.permission_key),
    );
    return lacking.length > 0;
  }

  private async verifiedUser(principal: UserPrincipal): Promise<Pick<User, 'id' | 'email' | 'emailVerifiedAt'>> {
    const user = await this.transactions.runWithoutTenant((manager) =>
      manager.findOneOrFail(User, {
        select: { id: true, email: true, emailVerifiedAt: true },
        where: { id: principal.userId },
      }),
    );
    if (!user.emailVerifiedAt) {
      throw problem(
        HttpStatus.FORBIDDEN,
        'email-not-verified',
        'Email not verified',
        'Verify your email address to see the invitations sent to it.',
      );
    }
    return user;
  }

  private async lock(manager: EntityManager, orgId: string, id: string): Promise<Invitation> {
    const invitation = await manager.findOne(Invitation, {
      where: { id, organizationId: orgId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!invitation) throw new NotFoundException('No such invitation.');
    return invitation;
  }

  /** The invited roles that still exist as organization roles here (a custom role may have been deleted). */
  private async liveRoleIds(manager: EntityManager, roleIds: string[]): Promise<string[]> {
    if (roleIds.length === 0) return [];
    const roles = await manager.find(Role, { where: { id: In(roleIds), scope: 'organization' }, select: { id: true } });
    return roleIds.filter((roleId) => roles.some((role) => role.id === roleId));
  }

  private async rolesById(manager: EntityManager, roleIds: string[]): Promise<Map<string, MemberRoleDto>> {
    const unique = [...new Set(roleIds)];
    if (unique.length === 0) return new Map();
    const roles = await manager.find(Role, { where: { id: In(unique) } });
    return new Map(roles.map((role) => [role.id, { id: role.id, name: role.name, isSystem: role.isSystem }]));
  }

  private async describe(
    manager: EntityManager,
    rows: Array<ShownRow<typeof INVITATION_SHOWN>>,
  ): Promise<InvitationDto[]> {
    const roles = await this.rolesById(
      manager,
      rows.flatMap((row) => row.roleIds),
    );
    const now = Date.now();
    return rows.map((row) => ({
      id: row.id,
      organizationId: row.organizationId,
      email: row.email,
      roles: row.roleIds.flatMap((roleId) => roles.get(roleId) ?? []),
      status: invitationStatus(row, now),
      invitedByUserId: row.invitedByUserId,
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
      acceptedAt: row.acceptedAt,
      revokedAt: row.revokedAt,
    }));
  }

  /**
   * INVITATIONS_PER_ORG_PER_DAY: an organization's invitation mails (new and resent) in any 24
   * hours, counted from its audit rows. Those rows are written in the same transaction as each
   * invitation and its mail, are kept at least a day (AUDIT_RETENTION_DAYS is at least 1) and
   * are shared by every replica, so the bound holds across replicas and restarts; a resend, which
   * changes its invitation row in place, has a row of its own there. The caller holds the
   * organization row's lock, so concurrent sends cannot both take the last place.
   */
  private async assertWithinDailyBound(manager: EntityManager, orgId: string): Promise<void> {
    const limit = this.config.auth.invitationsPerOrgPerDay;
    // The limit-th most recent send of the last day: while it exists the day is full, and a place
    // frees up when it turns a day old.
    const [oldest] = await manager.query<Array<{ wait: number }>>(
      `SELECT ceil(extract(epoch FROM occurred_at + interval '1 day' - now()))::int AS wait
         FROM audit_logs
        WHERE organization_id = $1 AND action = ANY($2) AND outcome = 'success'
          AND occurred_at > now() - interval '1 day'
        ORDER BY occurred_at DESC
        OFFSET $3 LIMIT 1`,
      [orgId, MAILED_ACTIONS, limit - 1],
    );
    if (oldest) throw new DailyBoundReached(limit, Math.max(1, oldest.wait));
  }

  /** Runs a send; when it hit the daily bound, records the refusal and answers 429 with Retry-After. */
  private async refusedOverDailyBound<T>(
    actor: UserPrincipal,
    orgId: string,
    action: 'invitation.create' | 'invitation.resend',
    metadata: Record<string, unknown>,
    work: () => Promise<T>,
  ): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof DailyBoundReached)) throw error;
      await this.audit.record({
        action,
        outcome: 'failure',
        organizationId: orgId,
        actorId: actor.userId,
        targetType: 'invitation',
        targetId: typeof metadata.invitationId === 'string' ? metadata.invitationId : null,
        metadata: { ...metadata, reason: 'daily_limit', limit: error.limit },
      });
      throw new ProblemException({
        status: HttpStatus.TOO_MANY_REQUESTS,
        slug: 'invitation-limit',
        title: 'Too many invitations',
        detail: `This organization has sent ${error.limit} invitations (new and resent) in the last 24 hours: try again later.`,
        extensions: { limit: error.limit },
        headers: { 'retry-after': String(error.retryAfterSeconds) },
      });
    }
  }

  private async mailContext(manager: EntityManager, orgId: string, actor: UserPrincipal) {
    const organization = await manager.findOneByOrFail(Organization, { id: orgId });
    const inviter = await manager.findOneBy(User, { id: actor.userId });
    return { organizationName: organization.name, inviterName: inviter?.fullName ?? null };
  }

  private expiry(): Date {
    return new Date(Date.now() + this.config.auth.invitationTtl * 1000);
  }

  private used(): ProblemException {
    return problem(HttpStatus.CONFLICT, 'invitation-used', 'Conflict', 'This invitation has been accepted already.');
  }

  private revoked(): ProblemException {
    return problem(HttpStatus.GONE, 'invitation-revoked', 'Gone', 'This invitation was withdrawn.');
  }

  private record(
    manager: EntityManager,
    actorId: string,
    orgId: string,
    action: string,
    invitationId: string,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.change(manager, action, orgId, { actorId }, ['invitation', invitationId], metadata);
  }
}

function statusFilter(status: InvitationStatus | undefined): FindOptionsWhere<Invitation> {
  const now = new Date();
  switch (status) {
    case 'pending':
      return { acceptedAt: IsNull(), revokedAt: IsNull(), expiresAt: MoreThan(now) };
    case 'accepted':
      return { acceptedAt: Not(IsNull()) };
    case 'revoked':
      return { acceptedAt: IsNull(), revokedAt: Not(IsNull()) };
    case 'expired':
      return { acceptedAt: IsNull(), revokedAt: IsNull(), expiresAt: LessThanOrEqual(now) };
    default:
      return {};
  }
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}
