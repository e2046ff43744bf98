/**
 * A page of an organization's teams (GET /organizations/:orgId/teams, and GraphQL's
 * Organization.teams): TeamDto's fields under TeamDto's names, oldest first, and the number of
 * teams in all, counted by a window over the same rows so the page and its total are one
 * statement. Kept apart (no imports) so the benchmark's raw-SQL floor runs exactly these texts.
 */
export const TEAM_PAGE_SQL = `SELECT id, organization_id AS "organizationId", name, slug, description, created_at AS "createdAt",
         count(*) OVER () AS "__total"
    FROM teams WHERE organization_id = $1
   ORDER BY created_at, id LIMIT $2 OFFSET $3`;

/** The total alone, for a page past the last team (no row carries the window's count). */
export const TEAM_COUNT_SQL = `SELECT count(*) AS "__total" FROM teams WHERE organization_id = $1`;

/** One team of the organization by id (GET …/teams/:teamId, and the check that it exists): TeamDto's fields. */
export const TEAM_SQL = `SELECT id, organization_id AS "organizationId", name, slug, description, created_at AS "createdAt"
    FROM teams WHERE id = $1 AND organization_id = $2`;
