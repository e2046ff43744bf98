import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A floor under audit pruning that the application cannot lower. `audit_log_prune(days)` runs as
 * the owner and `app_user` may call it; before this, any `days >= 1` deleted history older than a
 * day, so a statement injected through the app's connection could wipe nearly all of it. The floor
 * lives in `audit_settings`, which only the owner reads or writes; the migrate step sets it from
 * AUDIT_RETENTION_DAYS (default 30 days), and the function refuses anything under it.
 */
export class AuditPruneFloor1766131200000 implements MigrationInterface {
  name = 'AuditPruneFloor1766131200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE audit_settings (
         singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
         min_retention_days integer NOT NULL DEFAULT 30 CHECK (min_retention_days >= 1)
       )`,
      `INSERT INTO audit_settings DEFAULT VALUES`,
      `REVOKE ALL ON audit_settings FROM PUBLIC`,
      `CREATE OR REPLACE FUNCTION audit_log_prune(days integer) RETURNS bigint
       LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
       DECLARE removed bigint; floor_days integer;
       BEGIN
         SELECT min_retention_days INTO floor_days FROM audit_settings;
         IF days IS NULL OR days < 1 OR days < coalesce(floor_days, 1) THEN
           RAISE EXCEPTION 'audit_log_prune: days must be at least % (audit_settings.min_retention_days)',
             greatest(coalesce(floor_days, 1), 1) USING ERRCODE = '22023';
         END IF;
         DELETE FROM audit_logs WHERE occurred_at < now() - make_interval(days => days);
         GET DIAGNOSTICS removed = ROW_COUNT;
         RETURN removed;
       END $$`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE OR REPLACE FUNCTION audit_log_prune(days integer) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE removed bigint;
      BEGIN
        IF days IS NULL OR days < 1 THEN
          RAISE EXCEPTION 'audit_log_prune: days must be at least 1' USING ERRCODE = '22023';
        END IF;
        DELETE FROM audit_logs WHERE occurred_at < now() - make_interval(days => days);
        GET DIAGNOSTICS removed = ROW_COUNT;
        RETURN removed;
      END $$`);
    await queryRunner.query(`DROP TABLE audit_settings`);
  }
}
