import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Makes the audit log tamper-evident: every row carries its position in its organization's chain
 * (organization NULL: the installation's own chain) and a SHA-256 over its content and the previous
 * row's hash. A trigger computes both, so no writer can skip it; rows of one chain are serialised
 * with a transaction-scoped advisory lock. The digest hashes a JSON array of the fields, which is
 * unambiguous (no separator tricks) and independent of DateStyle or TimeZone settings.
 */
export class AuditChain1764489600000 implements MigrationInterface {
  name = 'AuditChain1764489600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "audit_logs" ADD "chain_seq" bigint`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ADD "prev_hash" character(64)`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ADD "hash" character(64)`);
    await queryRunner.query(`
      CREATE FUNCTION audit_log_digest(prev character, seq bigint, r audit_logs) RETURNS character(64)
      LANGUAGE sql IMMUTABLE AS $$
        SELECT encode(sha256(convert_to(jsonb_build_array(
          prev, seq, r.id, (extract(epoch FROM r.occurred_at) * 1000000)::bigint, r.organization_id,
          r.actor_type, r.actor_id, r.action, r.target_type, r.target_id, r.outcome, r.ip, r.user_agent,
          r.request_id, r.metadata
        )::text, 'UTF8')), 'hex')
      $$`);
    // Existing rows, oldest first, per chain.
    await queryRunner.query(`
      DO $$
      DECLARE r audit_logs; last_hash character(64); last_org uuid; seq bigint := 0; first boolean := true;
      BEGIN
        FOR r IN SELECT * FROM audit_logs ORDER BY organization_id NULLS FIRST, occurred_at, id LOOP
          IF first OR r.organization_id IS DISTINCT FROM last_org THEN
            seq := 0; last_hash := NULL; last_org := r.organization_id; first := false;
          END IF;
          seq := seq + 1;
          UPDATE audit_logs SET chain_seq = seq, prev_hash = last_hash,
                 hash = audit_log_digest(last_hash, seq, r) WHERE id = r.id;
          last_hash := audit_log_digest(last_hash, seq, r);
        END LOOP;
      END $$`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ALTER COLUMN "chain_seq" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ALTER COLUMN "hash" SET NOT NULL`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "audit_logs_chain_key" ON "audit_logs" ("organization_id", "chain_seq") NULLS NOT DISTINCT`,
    );
    await queryRunner.query(`
      CREATE FUNCTION audit_logs_chain() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE last_seq bigint; last_hash character(64);
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended('audit_logs:' || coalesce(NEW.organization_id::text, '-'), 0));
        IF NEW.organization_id IS NULL THEN
          SELECT chain_seq, hash INTO last_seq, last_hash FROM audit_logs
           WHERE organization_id IS NULL ORDER BY chain_seq DESC LIMIT 1;
        ELSE
          SELECT chain_seq, hash INTO last_seq, last_hash FROM audit_logs
           WHERE organization_id = NEW.organization_id ORDER BY chain_seq DESC LIMIT 1;
        END IF;
        NEW.chain_seq := coalesce(last_seq, 0) + 1;
        NEW.prev_hash := last_hash;
        NEW.hash := audit_log_digest(NEW.prev_hash, NEW.chain_seq, NEW);
        RETURN NEW;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER audit_logs_chain BEFORE INSERT ON "audit_logs" FOR EACH ROW EXECUTE FUNCTION audit_logs_chain()`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER audit_logs_chain ON "audit_logs"`);
    await queryRunner.query(`DROP FUNCTION audit_logs_chain()`);
    await queryRunner.query(`DROP INDEX "audit_logs_chain_key"`);
    await queryRunner.query(`DROP FUNCTION audit_log_digest(character, bigint, audit_logs)`);
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP COLUMN "hash"`);
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP COLUMN "prev_hash"`);
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP COLUMN "chain_seq"`);
  }
}
