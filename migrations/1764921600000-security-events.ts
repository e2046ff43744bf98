import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The security-event stream (refusals counted per actor, kind and minute; platform admins read
 * it), and an index for revoking every key a departing person created.
 */
export class SecurityEvents1764921600000 implements MigrationInterface {
  name = 'SecurityEvents1764921600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE "security_events" (
        "id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "kind" character varying(50) NOT NULL,
        "actor_type" character varying(20) NOT NULL,
        "actor_id" uuid NOT NULL,
        "window_start" TIMESTAMP WITH TIME ZONE NOT NULL,
        "count" integer NOT NULL,
        "organization_ids" uuid array NOT NULL DEFAULT '{}',
        "last_route" character varying(200) NOT NULL,
        "last_ip" character varying(64),
        "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "security_events_pkey" PRIMARY KEY ("id")
      )`,
      `CREATE UNIQUE INDEX "security_events_window_key" ON "security_events" ("kind", "actor_type", "actor_id", "window_start")`,
      `CREATE INDEX "security_events_window_idx" ON "security_events" ("window_start")`,
      // Counted by the api, pruned with the audit retention; never rewritten otherwise.
      `GRANT SELECT, INSERT, UPDATE, DELETE ON "security_events" TO app_user`,
      `CREATE INDEX "api_keys_created_by_idx" ON "api_keys" ("created_by_user_id")`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "api_keys_created_by_idx"`);
    await queryRunner.query(`DROP TABLE "security_events"`);
  }
}
