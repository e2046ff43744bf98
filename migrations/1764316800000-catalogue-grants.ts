import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The permission catalogue is synced from code at start, inside a system unit of work (as app_user). */
export class CatalogueGrants1764316800000 implements MigrationInterface {
  name = 'CatalogueGrants1764316800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`GRANT INSERT, UPDATE, DELETE ON permissions TO app_user`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`REVOKE INSERT, UPDATE, DELETE ON permissions FROM app_user`);
  }
}
