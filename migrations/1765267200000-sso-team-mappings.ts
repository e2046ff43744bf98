import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Single sign-on connections map assertion attributes (or claims) to teams too, not only roles. */
export class SsoTeamMappings1765267200000 implements MigrationInterface {
  name = 'SsoTeamMappings1765267200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sso_connections" ADD "team_mappings" jsonb NOT NULL DEFAULT '[]'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sso_connections" DROP COLUMN "team_mappings"`);
  }
}
