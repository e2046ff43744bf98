/**
 * A page of an organization's members (GET /organizations/:orgId/members): each member's account
 * fields the list shows (email and name, never the password hash or MFA secret), when they joined,
 * their organization roles as a JSON array, and the number of members in all (a window over the
 * same rows): one statement where TypeORM's find took four (page, count, users, role assignments).
 * Longest-standing first; roles in the order they were granted.
 */
export const MEMBER_PAGE_SQL = `SELECT m.user_id AS "userId", COALESCE(u.email, '') AS email, u.full_name AS "fullName",
         m.created_at AS "joinedAt",
         COALESCE((SELECT json_agg(json_build_object('id', r.id, 'name', r.name, 'isSystem', r.is_system)
                                   ORDER BY a.created_at, a.id)
                     FROM role_assignments a JOIN roles r ON r.id = a.role_id
                    WHERE a.organization_id = m.organization_id AND a.team_id IS NULL AND a.user_id = m.user_id),
                  '[]'::json) AS roles,
         count(*) OVER () AS total
    FROM organization_members m LEFT JOIN users u ON u.id = m.user_id
   WHERE m.organization_id = $1
   ORDER BY m.created_at, m.id LIMIT $2 OFFSET $3`;

/** The total alone, for a page past the last member. */
export const MEMBER_COUNT_SQL = `SELECT count(*) AS total FROM organization_members WHERE organization_id = $1`;
