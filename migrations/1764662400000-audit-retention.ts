import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention for the append-only audit log. The application role still cannot delete audit rows;
 * it may only call audit_log_prune(days), which runs as the owner and deletes rows older than
 * `days` (at least 1) days, nothing newer. The oldest remaining row of each chain then anchors it
 * (verification starts there).
 */
export class AuditRetention1764662400000 implements MigrationInterface {
  name = 'AuditRetention1764662400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // FORCE ROW LEVEL SECURITY applies to the owner too: let the owner (the prune function) delete.
    await queryRunner.query(`CREATE POLICY audit_prune ON audit_logs FOR DELETE TO CURRENT_USER USING (true)`);
    await queryRunner.query(`
      CREATE FUNCTION audit_log_prune(days integer) RETURNS bigint
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
    await queryRunner.query(`REVOKE ALL ON FUNCTION audit_log_prune(integer) FROM PUBLIC`);
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION audit_log_prune(integer) TO app_user`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION IF EXISTS audit_log_prune(integer)`);
    await queryRunner.query(`DROP POLICY IF EXISTS audit_prune ON audit_logs`);
  }
}
