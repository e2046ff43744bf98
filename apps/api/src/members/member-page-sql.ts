/**
 * The member lists' statements: each member's account fields the lists show (email and name, never
 * the password hash or MFA secret), when they joined, and the roles they hold there (organization
 * roles, or the team's) as a JSON array in the order they were granted. One statement where
 * TypeORM's finds took four (members, count, users, role assignments with their roles).
 */
const rolesHeldWhere = (teamCondition: string) =>
  `COALESCE((SELECT json_agg(json_build_object('id', r.id, 'name', r.name, 'isSystem', r.is_system)
                                   ORDER BY a.created_at, a.id)
                     FROM role_assignments a JOIN roles r ON r.id = a.role_id
                    WHERE a.organization_id = m.organization_id AND ${teamCondition} AND a.user_id = m.user_id),
                  '[]'::json) AS roles`;

/**
 * A page of an organization's members (GET /organizations/:orgId/members), longest-standing first,
 * with the number of members in all (a window over the same rows). The page is cut first, over the
 * membership rows alone; only its rows are then joined to their accounts and roles, so the rows an
 * OFFSET skips cost no account or role lookup.
 */
export const MEMBER_PAGE_SQL = `SELECT m.user_id AS "userId", COALESCE(u.email, '') AS email, u.full_name AS "fullName",
         m.created_at AS "joinedAt",
         ${rolesHeldWhere('a.team_id IS NULL')},
         m."__total"
    FROM (SELECT id, organization_id, user_id, created_at, count(*) OVER () AS "__total"
            FROM organization_members
           WHERE organization_id = $1
           ORDER BY created_at, id LIMIT $2 OFFSET $3) m
    LEFT JOIN users u ON u.id = m.user_id
   ORDER BY m.created_at, m.id`;

/** The total alone, for a page past the last member. */
export const MEMBER_COUNT_SQL = `SELECT count(*) AS "__total" FROM organization_members WHERE organization_id = $1`;

/**
 * The members of one or more teams of the organization with their team roles, each row naming its
 * team, longest-standing first (GET …/teams/:teamId/members with one id, GraphQL's batched
 * Team.members with several): one statement however many teams.
 */
export const TEAM_MEMBERS_SQL = `SELECT m.team_id AS "teamId", m.user_id AS "userId", COALESCE(u.email, '') AS email,
         u.full_name AS "fullName", m.created_at AS "joinedAt",
         ${rolesHeldWhere('a.team_id = m.team_id')}
    FROM team_members m LEFT JOIN users u ON u.id = m.user_id
   WHERE m.team_id = ANY($1) AND m.organization_id = $2
   ORDER BY m.created_at, m.id`;
