import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dropTenantTableSecurity, tenantTableSecurity } from './support/tenant-table';

/**
 * Webhooks: an organization's endpoints (each with its sealed signing secret, and the previous one
 * during a rotation) and one delivery row per event and endpoint, which its attempts update.
 */
export class Webhooks1765440000000 implements MigrationInterface {
  name = 'Webhooks1765440000000';
  static readonly tenantTables = ['webhook_endpoints', 'webhook_deliveries'];

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE "webhook_endpoints" (
        "id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "organization_id" uuid NOT NULL,
        "created_by_user_id" uuid,
        "url" character varying(2048) NOT NULL,
        "description" character varying(500),
        "event_types" character varying(100) array NOT NULL DEFAULT '{}',
        "enabled" boolean NOT NULL DEFAULT true,
        "secret_sealed" text NOT NULL,
        "previous_secret_sealed" text,
        "previous_secret_expires_at" TIMESTAMP WITH TIME ZONE,
        "failing_since" TIMESTAMP WITH TIME ZONE,
        "disabled_reason" character varying(200),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
      )`,
      `CREATE INDEX "webhook_endpoints_organization_idx" ON "webhook_endpoints" ("organization_id")`,
      `CREATE UNIQUE INDEX "webhook_endpoints_id_organization_key" ON "webhook_endpoints" ("id", "organization_id")`,
      `ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_created_by_user_id_fkey" FOREIGN KEY ("created_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
      ...tenantTableSecurity('webhook_endpoints'),
      `CREATE TABLE "webhook_deliveries" (
        "id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "organization_id" uuid NOT NULL,
        "endpoint_id" uuid NOT NULL,
        "event_id" uuid NOT NULL,
        "event_type" character varying(100) NOT NULL,
        "body" text NOT NULL,
        "status" character varying(20) NOT NULL DEFAULT 'pending',
        "attempts" integer NOT NULL DEFAULT '0',
        "next_attempt_at" TIMESTAMP WITH TIME ZONE,
        "last_status_code" integer,
        "last_latency_ms" integer,
        "last_response_body" character varying(1000),
        "last_error" character varying(500),
        "delivered_at" TIMESTAMP WITH TIME ZONE,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "webhook_deliveries_status_check" CHECK ("status" IN ('pending', 'succeeded', 'failed')),
        CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
      )`,
      `CREATE UNIQUE INDEX "webhook_deliveries_endpoint_event_key" ON "webhook_deliveries" ("endpoint_id", "event_id")`,
      `CREATE INDEX "webhook_deliveries_endpoint_created_idx" ON "webhook_deliveries" ("endpoint_id", "created_at")`,
      `ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_organization_fkey" FOREIGN KEY ("endpoint_id", "organization_id") REFERENCES "webhook_endpoints"("id","organization_id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      ...tenantTableSecurity('webhook_deliveries'),
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['webhook_deliveries', 'webhook_endpoints']) {
      for (const statement of dropTenantTableSecurity(table)) await queryRunner.query(statement);
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
