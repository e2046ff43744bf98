import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dropTenantTableSecurity, tenantTableSecurity } from './support/tenant-table';

/** Enterprise single sign-on: organizations' own SAML connections, the domains they prove, enforcement. */
export class SingleSignOn1765008000000 implements MigrationInterface {
  name = 'SingleSignOn1765008000000';
  static readonly tenantTables = ['sso_connections', 'organization_domains'];

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE "sso_connections" (
        "id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "organization_id" uuid NOT NULL,
        "type" character varying(10) NOT NULL,
        "name" character varying(200) NOT NULL,
        "enabled" boolean NOT NULL DEFAULT true,
        "idp_entity_id" character varying(1000) NOT NULL,
        "idp_sso_url" character varying(2000) NOT NULL,
        "idp_certificates" text array NOT NULL DEFAULT '{}',
        "allow_idp_initiated" boolean NOT NULL DEFAULT false,
        "default_role_id" uuid,
        "role_mappings" jsonb NOT NULL DEFAULT '[]',
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "sso_connections_pkey" PRIMARY KEY ("id")
      )`,
      `CREATE INDEX "sso_connections_organization_idx" ON "sso_connections" ("organization_id")`,
      `ALTER TABLE "sso_connections" ADD CONSTRAINT "sso_connections_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      ...tenantTableSecurity('sso_connections'),
      `CREATE TABLE "organization_domains" (
        "id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "organization_id" uuid NOT NULL,
        "domain" character varying(253) NOT NULL,
        "verification_token" character varying(100) NOT NULL,
        "verified_at" TIMESTAMP WITH TIME ZONE,
        "last_checked_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "organization_domains_pkey" PRIMARY KEY ("id")
      )`,
      `CREATE UNIQUE INDEX "organization_domains_org_domain_key" ON "organization_domains" ("organization_id", "domain")`,
      // One organization holds a domain verified; others may claim it but never prove it meanwhile.
      `CREATE UNIQUE INDEX "organization_domains_verified_key" ON "organization_domains" ("domain") WHERE "verified_at" IS NOT NULL`,
      `ALTER TABLE "organization_domains" ADD CONSTRAINT "organization_domains_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      ...tenantTableSecurity('organization_domains'),
      `ALTER TABLE "organizations" ADD "sso_enforced" boolean NOT NULL DEFAULT false`,
      `ALTER TABLE "organizations" ADD "sso_break_glass_user_id" uuid`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "sso_break_glass_user_id"`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "sso_enforced"`);
    for (const table of ['organization_domains', 'sso_connections']) {
      for (const statement of dropTenantTableSecurity(table)) await queryRunner.query(statement);
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
