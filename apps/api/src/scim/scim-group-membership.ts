import { newId } from '@app/common';
import { SYSTEM_ROLES } from '@app/rbac';
import type { EntityManager } from 'typeorm';

/** Rows per statement when a group's membership changes: a 10,000-member PATCH is a few statements. */
export const MEMBER_BATCH = 2_000;

function batches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MEMBER_BATCH) out.push(items.slice(i, i + MEMBER_BATCH));
  return out;
}

/**
 * Puts the active people among `scimUserIds` into the team (with the team-member role) unless they
 * are in it already. People the IdP keeps but deactivated have no membership here, so no team:
 * they are put back when the IdP reactivates them ({@link restoreGroupsOf}). Returns their user ids.
 */
export async function joinTeam(
  manager: EntityManager,
  orgId: string,
  teamId: string,
  scimUserIds: readonly string[],
): Promise<string[]> {
  const joined: string[] = [];
  for (const batch of batches(scimUserIds)) {
    const rows = await manager.query<Array<{ user_id: string }>>(
      `SELECT su.user_id FROM scim_users su
         JOIN organization_members om ON om.organization_id = su.organization_id AND om.user_id = su.user_id
        WHERE su.organization_id = $1 AND su.id = ANY($2::uuid[]) AND su.active
          AND NOT EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = $3 AND tm.user_id = su.user_id)`,
      [orgId, batch, teamId],
    );
    const userIds = rows.map((row) => row.user_id);
    if (userIds.length === 0) continue;
    await manager.query(
      `INSERT INTO team_members (id, organization_id, team_id, user_id)
       SELECT id, $1, $2, user_id FROM unnest($3::uuid[], $4::uuid[]) AS t(id, user_id)`,
      [orgId, teamId, userIds.map(() => newId()), userIds],
    );
    await manager.query(
      `INSERT INTO role_assignments (id, organization_id, team_id, user_id, role_id, granted_by_user_id)
       SELECT id, $1, $2, user_id, $3, NULL FROM unnest($4::uuid[], $5::uuid[]) AS t(id, user_id)
       ON CONFLICT DO NOTHING`,
      [orgId, teamId, SYSTEM_ROLES['team-member'].id, userIds.map(() => newId()), userIds],
    );
    joined.push(...userIds);
  }
  return joined;
}

/** Takes the people among `scimUserIds` out of the team (and its team roles). Returns their user ids. */
export async function leaveTeam(
  manager: EntityManager,
  orgId: string,
  teamId: string,
  scimUserIds: readonly string[],
): Promise<string[]> {
  const left: string[] = [];
  for (const batch of batches(scimUserIds)) {
    // Accounts first, then the team's rows by its (team_id, user_id) index: a plan that stays
    // cheap on tables the planner has no statistics for yet.
    const accounts = await manager.query<Array<{ user_id: string }>>(
      'SELECT user_id FROM scim_users WHERE organization_id = $1 AND id = ANY($2::uuid[])',
      [orgId, batch],
    );
    if (accounts.length === 0) continue;
    const rows = await manager.query<Array<{ user_id: string }>>(
      `WITH gone AS (
         DELETE FROM team_members WHERE team_id = $1 AND user_id = ANY($2::uuid[]) RETURNING user_id)
       SELECT user_id FROM gone`,
      [teamId, accounts.map((row) => row.user_id)],
    );
    const userIds = rows.map((row) => row.user_id);
    if (userIds.length === 0) continue;
    await manager.query(
      'DELETE FROM role_assignments WHERE organization_id = $1 AND team_id = $2 AND user_id = ANY($3::uuid[])',
      [orgId, teamId, userIds],
    );
    left.push(...userIds);
  }
  return left;
}

/**
 * Brings the organization roles that groups map to in line with group membership, for the given
 * accounts: a provisioned person holds a group's role while they are active and on its list. The
 * directory takes back only what it gave (assignments marked `source = 'directory'`): a role
 * someone was given by hand is left alone, and so is anyone the directory does not provision.
 * Returns how many assignments were added and removed.
 */
export async function syncGroupRoles(
  manager: EntityManager,
  orgId: string,
  userIds: readonly string[],
): Promise<{ granted: number; revoked: number }> {
  let granted = 0;
  let revoked = 0;
  for (const batch of batches([...new Set(userIds)])) {
    const wanted = `SELECT DISTINCT su.user_id, g.role_id
         FROM scim_group_members m
         JOIN scim_groups g ON g.id = m.group_id
         JOIN scim_users su ON su.id = m.scim_user_id AND su.active
         JOIN organization_members om ON om.organization_id = su.organization_id AND om.user_id = su.user_id
        WHERE m.organization_id = $1 AND g.role_id IS NOT NULL AND su.user_id = ANY($2::uuid[])`;
    const removed = await manager.query<Array<{ id: string }>>(
      `WITH wanted AS (${wanted}),
       gone AS (
         DELETE FROM role_assignments ra
          WHERE ra.organization_id = $1 AND ra.team_id IS NULL AND ra.user_id = ANY($2::uuid[])
            AND ra.source = 'directory'
            AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.user_id = ra.user_id AND w.role_id = ra.role_id)
         RETURNING ra.id)
       SELECT id FROM gone`,
      [orgId, batch],
    );
    const missing = await manager.query<Array<{ user_id: string; role_id: string }>>(
      `${wanted}
          AND NOT EXISTS (SELECT 1 FROM role_assignments ra
                           WHERE ra.organization_id = $1 AND ra.team_id IS NULL
                             AND ra.user_id = su.user_id AND ra.role_id = g.role_id)`,
      [orgId, batch],
    );
    if (missing.length > 0) {
      await manager.query(
        `INSERT INTO role_assignments (id, organization_id, team_id, user_id, role_id, granted_by_user_id, source)
         SELECT id, $1, NULL, user_id, role_id, NULL, 'directory'
           FROM unnest($2::uuid[], $3::uuid[], $4::uuid[]) AS t(id, user_id, role_id)
         ON CONFLICT DO NOTHING`,
        [orgId, missing.map(() => newId()), missing.map((row) => row.user_id), missing.map((row) => row.role_id)],
      );
    }
    granted += missing.length;
    revoked += removed.length;
  }
  return { granted, revoked };
}

/**
 * Serialises an organization's directory writes (SCIM Users and Groups, and hand changes to a
 * provisioned team) for the rest of the transaction: group membership, team rows and mapped roles
 * then change in one order, so two requests cannot interleave into a deadlock or a lost grant.
 * IdPs send one request at a time per organization anyway.
 */
export async function lockDirectory(manager: EntityManager, orgId: string): Promise<void> {
  await manager.query("SELECT pg_advisory_xact_lock(hashtextextended('scim-directory:' || $1, 0))", [orgId]);
}

/**
 * After the IdP reactivates someone: back into the teams of the groups the IdP still lists them
 * in, and the roles those groups map to.
 */
export async function restoreGroupsOf(manager: EntityManager, orgId: string, scimUserId: string): Promise<void> {
  const groups = await manager.query<Array<{ team_id: string }>>(
    `SELECT g.team_id FROM scim_group_members m JOIN scim_groups g ON g.id = m.group_id
      WHERE m.organization_id = $1 AND m.scim_user_id = $2`,
    [orgId, scimUserId],
  );
  for (const group of groups) await joinTeam(manager, orgId, group.team_id, [scimUserId]);
  const user = await manager.query<Array<{ user_id: string }>>(
    'SELECT user_id FROM scim_users WHERE organization_id = $1 AND id = $2',
    [orgId, scimUserId],
  );
  if (user[0]) await syncGroupRoles(manager, orgId, [user[0].user_id]);
}
