import { TenantTransaction } from '@app/database';
import { InvalidationBus } from '@app/queue';
import { Injectable, type OnModuleInit } from '@nestjs/common';

/** What a member may do in one organization: organization-wide, and per team. */
export interface Membership {
  permissions: ReadonlySet<string>;
  teamPermissions: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * Set when the organization enforces single sign-on for this member (their email is in one of
   * its verified domains): the sessions that count are those signed in through these connections.
   */
  sso?: { connectionIds: readonly string[]; breakGlassUserId: string | null };
  /** Set while the organization's deletion is scheduled. */
  deletionScheduledFor?: Date;
}

interface CacheEntry {
  membership: Membership | null;
  cachedUntil: number;
}

interface Invalidation {
  /** Absent: the user's memberships everywhere (their access ended as a whole). */
  organizationId?: string;
  userId?: string;
}

const TOPIC = 'permissions';
const CACHE_TTL_MS = 60_000;
const MAX_ENTRIES = 50_000;

/**
 * Effective permissions per (user, organization), cached so a warm request does no authorization
 * query. Every change that affects them (roles, assignments, membership, role definitions) must
 * call invalidate() after its commit; the bus spreads it to every replica.
 */
@Injectable()
export class PermissionResolver implements OnModuleInit {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly transactions: TenantTransaction,
    private readonly bus: InvalidationBus,
  ) {}

  onModuleInit(): void {
    this.bus.on(TOPIC, (payload) => this.forget(payload as Invalidation));
    this.bus.onReset(() => this.cache.clear());
  }

  /**
   * The caller's membership, or null when they are not a member of the organization or their
   * account is deactivated (so whatever acts for them, such as their API keys, stops too).
   */
  async resolve(userId: string, organizationId: string): Promise<Membership | null> {
    const key = `${userId}:${organizationId}`;
    const now = Date.now();
    const cached = this.bus.live ? this.cache.get(key) : undefined;
    if (cached && cached.cachedUntil > now) return cached.membership;
    // A tenant transaction: it joins the caller's own unit of work for this organization when one
    // is open (services check grants mid-transaction), and RLS confines the query to the organization.
    const rows = await this.transactions.run(organizationId, (manager) =>
      manager.query<MembershipRow[]>(
        `SELECT ra.team_id, rp.permission_key, enforced.connection_ids, o.sso_break_glass_user_id,
                o.deletion_scheduled_for
           FROM organization_members om
           JOIN users u ON u.id = om.user_id AND u.is_active
           JOIN organizations o ON o.id = om.organization_id
           LEFT JOIN LATERAL (
             SELECT ARRAY(SELECT c.id FROM sso_connections c WHERE c.organization_id = o.id AND c.enabled) AS connection_ids
              WHERE o.sso_enforced AND EXISTS (
                SELECT 1 FROM organization_domains d
                 WHERE d.organization_id = o.id AND d.verified_at IS NOT NULL
                   AND d.domain = split_part(lower(u.email), '@', 2))
           ) enforced ON true
           LEFT JOIN role_assignments ra ON ra.organization_id = om.organization_id AND ra.user_id = om.user_id
           LEFT JOIN role_permissions rp ON rp.role_id = ra.role_id
          WHERE om.organization_id = $1 AND om.user_id = $2`,
        [organizationId, userId],
      ),
    );
    const membership = rows.length === 0 ? null : toMembership(rows);
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(key, { membership, cachedUntil: now + CACHE_TTL_MS });
    return membership;
  }

  /** The permissions among `keys` the user does not hold in the organization (or in `teamId` there). */
  async lacking(userId: string, organizationId: string, keys: Iterable<string>, teamId?: string): Promise<string[]> {
    const membership = await this.resolve(userId, organizationId);
    const inTeam = teamId ? membership?.teamPermissions.get(teamId) : undefined;
    return [...new Set(keys)].filter((key) => !membership?.permissions.has(key) && !inTeam?.has(key));
  }

  /** Call after committing a change to a user's roles or membership (or to a whole organization's). */
  invalidate(organizationId: string, userId?: string): Promise<void> {
    return this.bus.publish(TOPIC, { organizationId, userId } satisfies Invalidation);
  }

  /** Call after committing the end of a user's access as a whole (deactivation, erasure). */
  invalidateUser(userId: string): Promise<void> {
    return this.bus.publish(TOPIC, { userId } satisfies Invalidation);
  }

  private forget({ organizationId, userId }: Invalidation): void {
    if (!organizationId) {
      if (!userId) return;
      for (const key of this.cache.keys()) if (key.startsWith(`${userId}:`)) this.cache.delete(key);
      return;
    }
    if (userId) {
      this.cache.delete(`${userId}:${organizationId}`);
      return;
    }
    for (const key of this.cache.keys()) if (key.endsWith(`:${organizationId}`)) this.cache.delete(key);
  }
}

interface MembershipRow {
  team_id: string | null;
  permission_key: string | null;
  /** Null unless the organization enforces SSO for this member. */
  connection_ids: string[] | null;
  sso_break_glass_user_id: string | null;
  deletion_scheduled_for: Date | null;
}

function toMembership(rows: MembershipRow[]): Membership {
  const first = rows[0];
  const sso =
    first?.connection_ids != null
      ? { connectionIds: first.connection_ids, breakGlassUserId: first.sso_break_glass_user_id }
      : undefined;
  const permissions = new Set<string>();
  const teamPermissions = new Map<string, Set<string>>();
  for (const row of rows) {
    if (!row.permission_key) continue;
    if (row.team_id === null) {
      permissions.add(row.permission_key);
      continue;
    }
    let team = teamPermissions.get(row.team_id);
    if (!team) teamPermissions.set(row.team_id, (team = new Set()));
    team.add(row.permission_key);
  }
  const membership: Membership = sso ? { permissions, teamPermissions, sso } : { permissions, teamPermissions };
  if (first?.deletion_scheduled_for) membership.deletionScheduledFor = new Date(first.deletion_scheduled_for);
  return membership;
}
