import type { MigrationInterface, QueryRunner } from 'typeorm';

/** When an account was erased (GDPR art. 17): its row stays as a pseudonym that history points to. */
export class AccountErasure1765785600000 implements MigrationInterface {
  name = 'AccountErasure1765785600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "erased_at" TIMESTAMP WITH TIME ZONE`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "erased_at"`);
  }
}
