import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Exports of a person's own data (GDPR art. 15 and 20): built by a job, kept until downloaded once
 * through a mailed single-use link (only its SHA-256 is stored) or until it expires.
 */
export class AccountExports1765872000000 implements MigrationInterface {
  name = 'AccountExports1765872000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE "account_exports" (
        "id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "user_id" uuid NOT NULL,
        "status" character varying(20) NOT NULL DEFAULT 'pending',
        "archive" text,
        "token_hash" character(64),
        "expires_at" TIMESTAMP WITH TIME ZONE,
        "completed_at" TIMESTAMP WITH TIME ZONE,
        "downloaded_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "account_exports_status_check" CHECK ("status" IN ('pending', 'ready', 'downloaded', 'expired', 'cancelled')),
        CONSTRAINT "account_exports_pkey" PRIMARY KEY ("id")
      )`,
      `CREATE INDEX "account_exports_user_idx" ON "account_exports" ("user_id")`,
      `CREATE UNIQUE INDEX "account_exports_token_hash_key" ON "account_exports" ("token_hash")`,
      `ALTER TABLE "account_exports" ADD CONSTRAINT "account_exports_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON "account_exports" TO app_user`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "account_exports"`);
  }
}
