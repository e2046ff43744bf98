import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dropTenantTableSecurity, tenantTableSecurity } from './support/tenant-table';

/** The example resource: projects of an organization, optionally owned by one of its teams. */
export class Projects1764576000000 implements MigrationInterface {
  name = 'Projects1764576000000';
  /** Tables of one organization's rows that this migration creates (see TENANT_TABLES). */
  static readonly tenantTables = ['projects'];

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE "projects" (
        "id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "organization_id" uuid NOT NULL,
        "team_id" uuid,
        "name" character varying(200) NOT NULL,
        "description" text,
        "status" character varying(20) NOT NULL DEFAULT 'active',
        "created_by" uuid,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
      )`,
      `CREATE INDEX "projects_organization_created_idx" ON "projects" ("organization_id", "created_at")`,
      `CREATE INDEX "projects_organization_team_idx" ON "projects" ("organization_id", "team_id")`,
      `ALTER TABLE "projects" ADD CONSTRAINT "projects_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      // A project's team is always a team of the project's own organization.
      `ALTER TABLE "projects" ADD CONSTRAINT "projects_team_organization_fkey" FOREIGN KEY ("team_id", "organization_id") REFERENCES "teams"("id", "organization_id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      ...tenantTableSecurity('projects'),
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const statement of dropTenantTableSecurity('projects')) await queryRunner.query(statement);
    await queryRunner.query(`DROP TABLE "projects"`);
  }
}
