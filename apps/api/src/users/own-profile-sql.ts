/**
 * GET /users/me's one statement: UserDto's fields under UserDto's names, nothing secret. Kept
 * apart (no imports) so the benchmark's raw-SQL floor runs exactly this text.
 */
export const OWN_PROFILE_SQL = `SELECT id, email, full_name AS "fullName", email_verified_at IS NOT NULL AS "emailVerified",
         mfa_enabled AS "mfaEnabled", is_platform_admin AS "isPlatformAdmin", created_at AS "createdAt"
    FROM users WHERE id = $1`;
