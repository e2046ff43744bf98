import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Passkeys (WebAuthn credentials) of users, and the time a session's owner last proved presence
 * (sign-in or step-up), which sensitive changes check.
 */
export class Passkeys1765526400000 implements MigrationInterface {
  name = 'Passkeys1765526400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE "passkeys" (
        "id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "user_id" uuid NOT NULL,
        "credential_id" character varying(1400) NOT NULL,
        "public_key" bytea NOT NULL,
        "counter" bigint NOT NULL DEFAULT '0',
        "transports" character varying(20) array NOT NULL DEFAULT '{}',
        "device_type" character varying(20) NOT NULL,
        "backed_up" boolean NOT NULL,
        "aaguid" character varying(36) NOT NULL,
        "name" character varying(100) NOT NULL,
        "last_used_at" TIMESTAMP WITH TIME ZONE,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "passkeys_pkey" PRIMARY KEY ("id")
      )`,
      `CREATE UNIQUE INDEX "passkeys_credential_id_key" ON "passkeys" ("credential_id")`,
      `CREATE INDEX "passkeys_user_idx" ON "passkeys" ("user_id")`,
      `ALTER TABLE "passkeys" ADD CONSTRAINT "passkeys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON "passkeys" TO app_user`,
      `ALTER TABLE "sessions" ADD "verified_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()`,
      // Sessions opened before this migration: their sign-in time is the best known proof.
      `UPDATE "sessions" SET "verified_at" = "created_at"`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "verified_at"`);
    await queryRunner.query(`DROP TABLE "passkeys"`);
  }
}
