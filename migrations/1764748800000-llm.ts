import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dropTenantTableSecurity, tenantTableSecurity } from './support/tenant-table';

/** The LLM integration: monthly token usage per organization, its optional budget, and background chat jobs. */
export class Llm1764748800000 implements MigrationInterface {
  name = 'Llm1764748800000';
  /** Tables of one organization's rows that this migration creates (see TENANT_TABLES). */
  static readonly tenantTables = ['llm_usage', 'llm_jobs'];

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `ALTER TABLE "organizations" ADD "llm_monthly_token_budget" integer`,
      `CREATE TABLE "llm_usage" (
        "organization_id" uuid NOT NULL,
        "period" date NOT NULL,
        "requests" integer NOT NULL DEFAULT '0',
        "prompt_tokens" bigint NOT NULL DEFAULT '0',
        "completion_tokens" bigint NOT NULL DEFAULT '0',
        CONSTRAINT "llm_usage_pkey" PRIMARY KEY ("organization_id", "period")
      )`,
      `ALTER TABLE "llm_usage" ADD CONSTRAINT "llm_usage_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `CREATE TABLE "llm_jobs" (
        "id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "organization_id" uuid NOT NULL,
        "requested_by" uuid NOT NULL,
        "status" character varying(20) NOT NULL DEFAULT 'queued',
        "model" character varying(200) NOT NULL,
        "messages" jsonb NOT NULL,
        "max_tokens" integer NOT NULL,
        "temperature" real,
        "result" text,
        "finish_reason" character varying(40),
        "prompt_tokens" integer,
        "completion_tokens" integer,
        "error" jsonb,
        "attempts" integer NOT NULL DEFAULT '0',
        "completed_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "llm_jobs_pkey" PRIMARY KEY ("id")
      )`,
      `CREATE INDEX "llm_jobs_organization_created_idx" ON "llm_jobs" ("organization_id", "created_at")`,
      `ALTER TABLE "llm_jobs" ADD CONSTRAINT "llm_jobs_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      ...tenantTableSecurity('llm_usage'),
      ...tenantTableSecurity('llm_jobs'),
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const statement of [...dropTenantTableSecurity('llm_jobs'), ...dropTenantTableSecurity('llm_usage')]) {
      await queryRunner.query(statement);
    }
    await queryRunner.query(`DROP TABLE "llm_jobs"`);
    await queryRunner.query(`DROP TABLE "llm_usage"`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "llm_monthly_token_budget"`);
  }
}
