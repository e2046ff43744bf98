import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Lets the lockout tell attempts in flight from ones abandoned long ago (see LockoutService). */
export class AttemptReservations1764403200000 implements MigrationInterface {
  name = 'AttemptReservations1764403200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "attempt_reserved_at" TIMESTAMP WITH TIME ZONE`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "attempt_reserved_at"`);
  }
}
