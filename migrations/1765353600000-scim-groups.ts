import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dropTenantTableSecurity, tenantTableSecurity } from './support/tenant-table';

/**
 * Directory sync, groups: each SCIM Group of an organization is one of its teams, with the IdP's
 * member list kept beside the team's (so people the IdP deactivates and restores return to their
 * teams), and optionally an organization role its members hold (assignments directory sync
 * keeps are marked, so it never takes back a role someone was given by hand).
 */
export class ScimGroups1765353600000 implements MigrationInterface {
  name = 'ScimGroups1765353600000';
  static readonly tenantTables = ['scim_groups', 'scim_group_members'];

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE "scim_groups" (
        "id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "organization_id" uuid NOT NULL,
        "team_id" uuid NOT NULL,
        "display_name" character varying(200) NOT NULL,
        "external_id" character varying(255),
        "role_id" uuid,
        "version" integer NOT NULL DEFAULT '1',
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "scim_groups_pkey" PRIMARY KEY ("id")
      )`,
      `CREATE UNIQUE INDEX "scim_groups_org_team_key" ON "scim_groups" ("organization_id", "team_id")`,
      `CREATE UNIQUE INDEX "scim_groups_id_organization_key" ON "scim_groups" ("id", "organization_id")`,
      `CREATE UNIQUE INDEX "scim_groups_org_external_id_key" ON "scim_groups" ("organization_id", "external_id") WHERE "external_id" IS NOT NULL`,
      `CREATE UNIQUE INDEX "scim_groups_org_display_name_key" ON "scim_groups" ("organization_id", lower("display_name"))`,
      `ALTER TABLE "scim_groups" ADD CONSTRAINT "scim_groups_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `ALTER TABLE "scim_groups" ADD CONSTRAINT "scim_groups_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `ALTER TABLE "scim_groups" ADD CONSTRAINT "scim_groups_role_id_fkey" FOREIGN KEY ("role_id") REFERENCES "roles"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
      `ALTER TABLE "scim_groups" ADD CONSTRAINT "scim_groups_team_organization_fkey" FOREIGN KEY ("team_id", "organization_id") REFERENCES "teams"("id","organization_id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      ...tenantTableSecurity('scim_groups'),
      `CREATE TABLE "scim_group_members" (
        "group_id" uuid NOT NULL,
        "scim_user_id" uuid NOT NULL,
        "organization_id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "scim_group_members_pkey" PRIMARY KEY ("group_id", "scim_user_id")
      )`,
      `CREATE INDEX "scim_group_members_scim_user_idx" ON "scim_group_members" ("scim_user_id")`,
      `CREATE UNIQUE INDEX "scim_users_id_organization_key" ON "scim_users" ("id", "organization_id")`,
      `ALTER TABLE "scim_group_members" ADD CONSTRAINT "scim_group_members_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `ALTER TABLE "scim_group_members" ADD CONSTRAINT "scim_group_members_group_id_fkey" FOREIGN KEY ("group_id") REFERENCES "scim_groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `ALTER TABLE "scim_group_members" ADD CONSTRAINT "scim_group_members_scim_user_id_fkey" FOREIGN KEY ("scim_user_id") REFERENCES "scim_users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `ALTER TABLE "scim_group_members" ADD CONSTRAINT "scim_group_members_group_organization_fkey" FOREIGN KEY ("group_id", "organization_id") REFERENCES "scim_groups"("id","organization_id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `ALTER TABLE "scim_group_members" ADD CONSTRAINT "scim_group_members_user_organization_fkey" FOREIGN KEY ("scim_user_id", "organization_id") REFERENCES "scim_users"("id","organization_id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      ...tenantTableSecurity('scim_group_members'),
      // Assignments directory sync keeps (a role a group maps to), told apart from those given by hand.
      `ALTER TABLE "role_assignments" ADD "source" character varying(20)`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "role_assignments" DROP COLUMN "source"`);
    for (const table of ['scim_group_members', 'scim_groups']) {
      for (const statement of dropTenantTableSecurity(table)) await queryRunner.query(statement);
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
    await queryRunner.query(`DROP INDEX "scim_users_id_organization_key"`);
  }
}
