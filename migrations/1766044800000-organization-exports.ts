import type { MigrationInterface, QueryRunner } from 'typeorm';

/** An export may be an organization's (asked for by an owner, mailed to them) instead of a person's own. */
export class OrganizationExports1766044800000 implements MigrationInterface {
  name = 'OrganizationExports1766044800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "account_exports" ADD "organization_id" uuid`);
    await queryRunner.query(`CREATE INDEX "account_exports_organization_idx" ON "account_exports" ("organization_id")`);
    await queryRunner.query(
      `ALTER TABLE "account_exports" ADD CONSTRAINT "account_exports_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "account_exports" DROP CONSTRAINT "account_exports_organization_id_fkey"`);
    await queryRunner.query(`DROP INDEX "account_exports_organization_idx"`);
    await queryRunner.query(`ALTER TABLE "account_exports" DROP COLUMN "organization_id"`);
  }
}
