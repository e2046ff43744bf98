import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Reports of the dependency check: installation-wide (no organization), read by platform admins. */
export class DependencyReports1764835200000 implements MigrationInterface {
  name = 'DependencyReports1764835200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE "dependency_reports" (
        "id" uuid NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "registry" character varying(500) NOT NULL,
        "duration_ms" integer NOT NULL,
        "summary" jsonb NOT NULL,
        "packages" jsonb NOT NULL,
        CONSTRAINT "dependency_reports_pkey" PRIMARY KEY ("id")
      )`,
      `CREATE INDEX "dependency_reports_created_idx" ON "dependency_reports" ("created_at")`,
      // Written by the check, pruned to the latest reports; never changed.
      `GRANT SELECT, INSERT, DELETE ON "dependency_reports" TO app_user`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "dependency_reports"`);
  }
}
