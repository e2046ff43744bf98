import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deleting an organization takes a grace period: it is scheduled, closed to everything but an
 * owner's restore, and purged by a job once the time is up.
 */
export class OrganizationDeletion1765958400000 implements MigrationInterface {
  name = 'OrganizationDeletion1765958400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "organizations" ADD "deletion_scheduled_for" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "organizations" ADD "deletion_requested_by" uuid`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "deletion_requested_by"`);
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "deletion_scheduled_for"`);
  }
}
