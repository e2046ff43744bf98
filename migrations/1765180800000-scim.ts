import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dropTenantTableSecurity, tenantTableSecurity } from './support/tenant-table';

/**
 * Directory sync (SCIM 2.0): the tokens an organization's IdP provisions with, and its view of
 * the members it manages. SCIM tokens act in audit rows as their own kind of actor.
 */
export class Scim1765180800000 implements MigrationInterface {
  name = 'Scim1765180800000';
  static readonly tenantTables = ['scim_tokens', 'scim_users'];

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE "scim_tokens" (
        "id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "organization_id" uuid NOT NULL,
        "created_by_user_id" uuid,
        "name" character varying(200) NOT NULL,
        "prefix" character varying(32) NOT NULL,
        "token_hash" character(64) NOT NULL,
        "last_used_at" TIMESTAMP WITH TIME ZONE,
        "revoked_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "scim_tokens_pkey" PRIMARY KEY ("id")
      )`,
      `CREATE INDEX "scim_tokens_organization_idx" ON "scim_tokens" ("organization_id")`,
      `CREATE UNIQUE INDEX "scim_tokens_prefix_key" ON "scim_tokens" ("prefix")`,
      `ALTER TABLE "scim_tokens" ADD CONSTRAINT "scim_tokens_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `ALTER TABLE "scim_tokens" ADD CONSTRAINT "scim_tokens_created_by_user_id_fkey" FOREIGN KEY ("created_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
      ...tenantTableSecurity('scim_tokens'),
      `CREATE TABLE "scim_users" (
        "id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "organization_id" uuid NOT NULL,
        "user_id" uuid NOT NULL,
        "user_name" character varying(320) NOT NULL,
        "external_id" character varying(255),
        "active" boolean NOT NULL DEFAULT true,
        "given_name" character varying(200),
        "family_name" character varying(200),
        "display_name" character varying(200),
        "version" integer NOT NULL DEFAULT '1',
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "scim_users_pkey" PRIMARY KEY ("id")
      )`,
      `CREATE UNIQUE INDEX "scim_users_org_external_id_key" ON "scim_users" ("organization_id", "external_id") WHERE "external_id" IS NOT NULL`,
      `CREATE UNIQUE INDEX "scim_users_org_user_key" ON "scim_users" ("organization_id", "user_id")`,
      `CREATE UNIQUE INDEX "scim_users_org_user_name_key" ON "scim_users" ("organization_id", "user_name")`,
      `ALTER TABLE "scim_users" ADD CONSTRAINT "scim_users_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `ALTER TABLE "scim_users" ADD CONSTRAINT "scim_users_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      ...tenantTableSecurity('scim_users'),
      `ALTER TABLE "audit_logs" DROP CONSTRAINT "audit_logs_actor_type_check"`,
      `ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_actor_type_check" CHECK ("actor_type" IN ('user', 'api_key', 'system', 'scim_token'))`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Rows written by SCIM tokens stay (deleting them would break the audit chain): the narrower
    // check applies to new rows only.
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP CONSTRAINT "audit_logs_actor_type_check"`);
    await queryRunner.query(
      `ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_actor_type_check" CHECK ("actor_type" IN ('user', 'api_key', 'system')) NOT VALID`,
    );
    for (const table of ['scim_users', 'scim_tokens']) {
      for (const statement of dropTenantTableSecurity(table)) await queryRunner.query(statement);
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
