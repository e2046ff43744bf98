import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Impersonation: a session a platform admin opened as someone else, with who, why and whether it
 * may write. The session dies with its admin's account.
 */
export class Impersonation1765612800000 implements MigrationInterface {
  name = 'Impersonation1765612800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `ALTER TABLE "sessions" ADD "impersonator_id" uuid`,
      `ALTER TABLE "sessions" ADD "impersonation_reason" character varying(500)`,
      `ALTER TABLE "sessions" ADD "impersonation_write" boolean NOT NULL DEFAULT false`,
      `CREATE INDEX "sessions_impersonator_idx" ON "sessions" ("impersonator_id")`,
      `ALTER TABLE "sessions" ADD CONSTRAINT "sessions_impersonator_id_fkey" FOREIGN KEY ("impersonator_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP CONSTRAINT "sessions_impersonator_id_fkey"`);
    await queryRunner.query(`DROP INDEX "sessions_impersonator_idx"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "impersonation_write"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "impersonation_reason"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "impersonator_id"`);
  }
}
