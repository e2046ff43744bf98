import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first schema: identity, tenancy, RBAC, sessions, one-time tokens, audit log, outbox,
 * and the row-level security that isolates tenants. Tables come from the entities
 * (generated, then reviewed); constraints TypeORM cannot express and the RLS policies are hand-written.
 */
const TABLES = [
  `CREATE TABLE "organizations" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "name" character varying(200) NOT NULL, "slug" character varying(100) NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6b031fcd0863e3f6b44230163f9" PRIMARY KEY ("id"))`,
  `CREATE UNIQUE INDEX "organizations_slug_key" ON "organizations" ("slug")`,
  `CREATE TABLE "users" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "email" character varying(320) NOT NULL, "email_verified_at" TIMESTAMP WITH TIME ZONE, "password_hash" text, "full_name" character varying(200), "is_active" boolean NOT NULL DEFAULT true, "is_platform_admin" boolean NOT NULL DEFAULT false, "failed_login_attempts" integer NOT NULL DEFAULT '0', "locked_until" TIMESTAMP WITH TIME ZONE, "last_login_at" TIMESTAMP WITH TIME ZONE, "mfa_enabled" boolean NOT NULL DEFAULT false, "totp_secret_encrypted" text, "totp_last_used_step" bigint, "recovery_code_hashes" text array NOT NULL DEFAULT '{}', "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`,
  `CREATE TABLE "api_keys" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "organization_id" uuid NOT NULL, "created_by_user_id" uuid, "name" character varying(200) NOT NULL, "prefix" character varying(32) NOT NULL, "key_hash" character(64) NOT NULL, "permissions" character varying(100) array NOT NULL DEFAULT '{}', "expires_at" TIMESTAMP WITH TIME ZONE, "last_used_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_5c8a79801b44bd27b79228e1dad" PRIMARY KEY ("id"))`,
  `CREATE INDEX "api_keys_organization_idx" ON "api_keys" ("organization_id")`,
  `CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys" ("prefix")`,
  `CREATE TABLE "audit_logs" ("id" uuid NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "organization_id" uuid, "actor_type" character varying(20) NOT NULL, "actor_id" uuid, "action" character varying(100) NOT NULL, "target_type" character varying(100), "target_id" character varying(100), "outcome" character varying(20) NOT NULL, "ip" character varying(64), "user_agent" character varying(512), "request_id" character varying(128), "metadata" jsonb NOT NULL DEFAULT '{}', CONSTRAINT "audit_logs_outcome_check" CHECK ("outcome" IN ('success', 'failure', 'denied')), CONSTRAINT "audit_logs_actor_type_check" CHECK ("actor_type" IN ('user', 'api_key', 'system')), CONSTRAINT "PK_1bb179d048bbc581caa3b013439" PRIMARY KEY ("id"))`,
  `CREATE INDEX "audit_logs_action_idx" ON "audit_logs" ("action")`,
  `CREATE INDEX "audit_logs_actor_idx" ON "audit_logs" ("actor_id")`,
  `CREATE INDEX "audit_logs_organization_time_idx" ON "audit_logs" ("organization_id", "occurred_at")`,
  `CREATE TABLE "invitations" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "organization_id" uuid NOT NULL, "email" character varying(320) NOT NULL, "role_ids" uuid array NOT NULL DEFAULT '{}', "invited_by_user_id" uuid, "token_hash" character(64) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "accepted_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_5dec98cfdfd562e4ad3648bbb07" PRIMARY KEY ("id"))`,
  `CREATE INDEX "invitations_organization_idx" ON "invitations" ("organization_id")`,
  `CREATE UNIQUE INDEX "invitations_token_hash_key" ON "invitations" ("token_hash")`,
  `CREATE TABLE "oauth_accounts" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "provider" character varying(50) NOT NULL, "provider_account_id" character varying(255) NOT NULL, "email" character varying(320), "email_verified" boolean NOT NULL DEFAULT false, "last_used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_710a81523f515b78f894e33bb10" PRIMARY KEY ("id"))`,
  `CREATE INDEX "oauth_accounts_user_idx" ON "oauth_accounts" ("user_id")`,
  `CREATE UNIQUE INDEX "oauth_accounts_provider_subject_key" ON "oauth_accounts" ("provider", "provider_account_id")`,
  `CREATE TABLE "one_time_tokens" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "purpose" character varying(30) NOT NULL, "token_hash" character(64) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "one_time_tokens_purpose_check" CHECK ("purpose" IN ('email_verification', 'password_reset', 'mfa_challenge')), CONSTRAINT "PK_8e470cc9ffc1b2afa054304db17" PRIMARY KEY ("id"))`,
  `CREATE INDEX "one_time_tokens_user_purpose_idx" ON "one_time_tokens" ("user_id", "purpose")`,
  `CREATE UNIQUE INDEX "one_time_tokens_token_hash_key" ON "one_time_tokens" ("token_hash")`,
  `CREATE TABLE "organization_members" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "organization_id" uuid NOT NULL, "user_id" uuid NOT NULL, CONSTRAINT "PK_c2b39d5d072886a4d9c8105eb9a" PRIMARY KEY ("id"))`,
  `CREATE INDEX "organization_members_user_idx" ON "organization_members" ("user_id")`,
  `CREATE UNIQUE INDEX "organization_members_organization_user_key" ON "organization_members" ("organization_id", "user_id")`,
  `CREATE TABLE "outbox" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "job_name" character varying(100) NOT NULL, "payload" jsonb NOT NULL, "organization_id" uuid, "available_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "published_at" TIMESTAMP WITH TIME ZONE, "publish_attempts" integer NOT NULL DEFAULT '0', "last_error" text, CONSTRAINT "PK_340ab539f309f03bdaa14aa7649" PRIMARY KEY ("id"))`,
  `CREATE TABLE "permissions" ("key" character varying(100) NOT NULL, "description" text NOT NULL, "scopes" character varying(20) array NOT NULL, CONSTRAINT "PK_017943867ed5ceef9c03edd9745" PRIMARY KEY ("key"))`,
  `CREATE TABLE "sessions" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "auth_method" character varying(50) NOT NULL, "ip" character varying(64), "user_agent" character varying(512), "last_used_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE, "revoked_reason" character varying(50), CONSTRAINT "PK_3238ef96f18b355b671619111bc" PRIMARY KEY ("id"))`,
  `CREATE INDEX "sessions_user_idx" ON "sessions" ("user_id")`,
  `CREATE TABLE "refresh_tokens" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "session_id" uuid NOT NULL, "token_hash" character(64) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_7d8bee0204106019488c4c50ffa" PRIMARY KEY ("id"))`,
  `CREATE INDEX "refresh_tokens_session_idx" ON "refresh_tokens" ("session_id")`,
  `CREATE UNIQUE INDEX "refresh_tokens_token_hash_key" ON "refresh_tokens" ("token_hash")`,
  `CREATE TABLE "roles" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "organization_id" uuid, "name" character varying(100) NOT NULL, "description" text, "scope" character varying(20) NOT NULL, "is_system" boolean NOT NULL DEFAULT false, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "roles_system_check" CHECK (("is_system" AND "organization_id" IS NULL) OR (NOT "is_system" AND "organization_id" IS NOT NULL)), CONSTRAINT "roles_scope_check" CHECK ("scope" IN ('organization', 'team')), CONSTRAINT "PK_c1433d71a4838793a49dcad46ab" PRIMARY KEY ("id"))`,
  `CREATE TABLE "teams" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "organization_id" uuid NOT NULL, "name" character varying(200) NOT NULL, "slug" character varying(100) NOT NULL, "description" text, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_7e5523774a38b08a6236d322403" PRIMARY KEY ("id"))`,
  `CREATE UNIQUE INDEX "teams_organization_slug_key" ON "teams" ("organization_id", "slug")`,
  `CREATE TABLE "role_assignments" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "user_id" uuid NOT NULL, "role_id" uuid NOT NULL, "organization_id" uuid NOT NULL, "team_id" uuid, "granted_by_user_id" uuid, CONSTRAINT "PK_fc2df9835ac1d2a34839f113783" PRIMARY KEY ("id"))`,
  `CREATE INDEX "role_assignments_team_idx" ON "role_assignments" ("team_id")`,
  `CREATE INDEX "role_assignments_role_idx" ON "role_assignments" ("role_id")`,
  `CREATE INDEX "role_assignments_organization_user_idx" ON "role_assignments" ("organization_id", "user_id")`,
  `CREATE TABLE "role_permissions" ("role_id" uuid NOT NULL, "permission_key" character varying(100) NOT NULL, "organization_id" uuid, CONSTRAINT "PK_064de54701f3ac10466efa130a5" PRIMARY KEY ("role_id", "permission_key"))`,
  `CREATE INDEX "role_permissions_permission_idx" ON "role_permissions" ("permission_key")`,
  `CREATE TABLE "team_members" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "organization_id" uuid NOT NULL, "team_id" uuid NOT NULL, "user_id" uuid NOT NULL, CONSTRAINT "PK_ca3eae89dcf20c9fd95bf7460aa" PRIMARY KEY ("id"))`,
  `CREATE INDEX "team_members_user_idx" ON "team_members" ("user_id")`,
  `CREATE UNIQUE INDEX "team_members_team_user_key" ON "team_members" ("team_id", "user_id")`,
  `ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_created_by_user_id_fkey" FOREIGN KEY ("created_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
  `ALTER TABLE "invitations" ADD CONSTRAINT "invitations_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "invitations" ADD CONSTRAINT "invitations_invited_by_user_id_fkey" FOREIGN KEY ("invited_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
  `ALTER TABLE "oauth_accounts" ADD CONSTRAINT "oauth_accounts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "one_time_tokens" ADD CONSTRAINT "one_time_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "organization_members" ADD CONSTRAINT "organization_members_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "organization_members" ADD CONSTRAINT "organization_members_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "refresh_tokens" ADD CONSTRAINT "refresh_tokens_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "roles" ADD CONSTRAINT "roles_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "teams" ADD CONSTRAINT "teams_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "role_assignments" ADD CONSTRAINT "role_assignments_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "role_assignments" ADD CONSTRAINT "role_assignments_role_id_fkey" FOREIGN KEY ("role_id") REFERENCES "roles"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "role_assignments" ADD CONSTRAINT "role_assignments_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "role_assignments" ADD CONSTRAINT "role_assignments_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "role_assignments" ADD CONSTRAINT "role_assignments_granted_by_user_id_fkey" FOREIGN KEY ("granted_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
  `ALTER TABLE "role_permissions" ADD CONSTRAINT "role_permissions_role_id_fkey" FOREIGN KEY ("role_id") REFERENCES "roles"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "role_permissions" ADD CONSTRAINT "role_permissions_permission_key_fkey" FOREIGN KEY ("permission_key") REFERENCES "permissions"("key") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "team_members" ADD CONSTRAINT "team_members_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "team_members" ADD CONSTRAINT "team_members_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "team_members" ADD CONSTRAINT "team_members_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
];

/** Integrity rules beyond single-column foreign keys. */
const CONSTRAINTS = [
  // Emails are unique whatever their case.
  `CREATE UNIQUE INDEX "users_email_lower_key" ON "users" (lower("email"))`,
  `CREATE INDEX "invitations_email_lower_idx" ON "invitations" (lower("email"))`,
  // One name per organization, and one among the system roles (organization_id NULL).
  `CREATE UNIQUE INDEX "roles_organization_name_key" ON "roles" ("organization_id", lower("name")) NULLS NOT DISTINCT`,
  `CREATE UNIQUE INDEX "role_assignments_unique_key" ON "role_assignments" ("user_id", "role_id", "organization_id", "team_id") NULLS NOT DISTINCT`,
  `CREATE INDEX "outbox_unpublished_idx" ON "outbox" ("available_at") WHERE "published_at" IS NULL`,
  // A team member, or a team-scoped assignment, always belongs to the team's own organization,
  // and is always a member of that organization (leaving the organization leaves its teams).
  `CREATE UNIQUE INDEX "teams_id_organization_key" ON "teams" ("id", "organization_id")`,
  `ALTER TABLE "team_members" ADD CONSTRAINT "team_members_team_organization_fkey" FOREIGN KEY ("team_id", "organization_id") REFERENCES "teams"("id", "organization_id") ON DELETE CASCADE`,
  `ALTER TABLE "team_members" ADD CONSTRAINT "team_members_organization_member_fkey" FOREIGN KEY ("organization_id", "user_id") REFERENCES "organization_members"("organization_id", "user_id") ON DELETE CASCADE`,
  `ALTER TABLE "role_assignments" ADD CONSTRAINT "role_assignments_team_organization_fkey" FOREIGN KEY ("team_id", "organization_id") REFERENCES "teams"("id", "organization_id") ON DELETE CASCADE`,
  `ALTER TABLE "role_assignments" ADD CONSTRAINT "role_assignments_organization_member_fkey" FOREIGN KEY ("organization_id", "user_id") REFERENCES "organization_members"("organization_id", "user_id") ON DELETE CASCADE`,
];

/** Tables holding one organization's data: RLS enabled and forced on each. */
export const TENANT_TABLES = [
  'organizations',
  'teams',
  'organization_members',
  'team_members',
  'roles',
  'role_permissions',
  'role_assignments',
  'api_keys',
  'invitations',
  'audit_logs',
] as const;

const ORGANIZATION_ID_TABLES = [
  'teams',
  'organization_members',
  'team_members',
  'role_assignments',
  'api_keys',
  'invitations',
];

const SECURITY = [
  // The runtime role. NOLOGIN: the app connects as the owner and switches to it per transaction.
  `DO $$ BEGIN
     IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_user') THEN
       CREATE ROLE app_user NOLOGIN;
     END IF;
   END $$`,
  `GRANT app_user TO CURRENT_USER`,
  `GRANT USAGE ON SCHEMA public TO app_user`,
  `GRANT SELECT, INSERT, UPDATE, DELETE ON
     users, organizations, teams, organization_members, team_members, roles, role_permissions,
     role_assignments, oauth_accounts, api_keys, sessions, refresh_tokens, one_time_tokens,
     invitations, outbox
   TO app_user`,
  `GRANT SELECT ON permissions TO app_user`,
  // The audit log is append-only for the application.
  `GRANT SELECT, INSERT ON audit_logs TO app_user`,
  // The tenant of the current transaction; NULL when none is set.
  `CREATE FUNCTION app_current_org() RETURNS uuid LANGUAGE sql STABLE
     AS $$ SELECT NULLIF(current_setting('app.org_id', true), '')::uuid $$`,
  // True only inside TenantTransaction.runAsSystem: explicit cross-tenant work.
  `CREATE FUNCTION app_is_system() RETURNS boolean LANGUAGE sql STABLE
     AS $$ SELECT coalesce(current_setting('app.system', true), '') = 'on' $$`,
  `GRANT EXECUTE ON FUNCTION app_current_org(), app_is_system() TO app_user`,
  ...TENANT_TABLES.flatMap((table) => [
    `ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE "${table}" FORCE ROW LEVEL SECURITY`,
  ]),
  `CREATE POLICY tenant_isolation ON organizations
     USING (app_is_system() OR id = app_current_org())
     WITH CHECK (app_is_system() OR id = app_current_org())`,
  ...ORGANIZATION_ID_TABLES.map(
    (table) => `CREATE POLICY tenant_isolation ON "${table}"
     USING (app_is_system() OR organization_id = app_current_org())
     WITH CHECK (app_is_system() OR organization_id = app_current_org())`,
  ),
  // System roles (organization_id NULL) are readable by every tenant and writable by none.
  ...['roles', 'role_permissions'].flatMap((table) => [
    `CREATE POLICY tenant_read ON "${table}" FOR SELECT
       USING (app_is_system() OR organization_id IS NULL OR organization_id = app_current_org())`,
    `CREATE POLICY tenant_insert ON "${table}" FOR INSERT
       WITH CHECK (app_is_system() OR organization_id = app_current_org())`,
    `CREATE POLICY tenant_update ON "${table}" FOR UPDATE
       USING (app_is_system() OR organization_id = app_current_org())
       WITH CHECK (app_is_system() OR organization_id = app_current_org())`,
    `CREATE POLICY tenant_delete ON "${table}" FOR DELETE
       USING (app_is_system() OR organization_id = app_current_org())`,
  ]),
  `CREATE POLICY tenant_read ON audit_logs FOR SELECT
     USING (app_is_system() OR organization_id = app_current_org())`,
  `CREATE POLICY tenant_insert ON audit_logs FOR INSERT
     WITH CHECK (app_is_system() OR organization_id = app_current_org())`,
];

export class InitialSchema1764230400000 implements MigrationInterface {
  name = 'InitialSchema1764230400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [...TABLES, ...CONSTRAINTS, ...SECURITY]) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS
      team_members, role_assignments, role_permissions, roles, permissions, api_keys, invitations,
      organization_members, teams, refresh_tokens, sessions, one_time_tokens, oauth_accounts,
      audit_logs, outbox, organizations, users CASCADE`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS app_current_org(), app_is_system()`);
  }
}
