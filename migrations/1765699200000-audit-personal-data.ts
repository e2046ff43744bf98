import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets personal data leave the audit log while its tamper-evident chain still verifies (GDPR
 * art. 17). A row's hash now covers a salted digest of its personal fields (ip, user agent,
 * metadata) instead of the fields themselves. Erasing a person clears those fields and the salt
 * (so the digest cannot be used to test guesses), keeps the digest, and stamps erased_at: the
 * event, its time, its actor and target ids (pseudonyms once the account is erased) and the chain
 * stay, and so does the platform admin who acted as them (impersonator_id, hashed, never erased).
 *
 * Existing rows are re-hashed under the new digest, chain by chain, but only after every chain has
 * verified under the old one: a broken chain stops the migration (investigate before re-running).
 */
export class AuditPersonalData1765699200000 implements MigrationInterface {
  name = 'AuditPersonalData1765699200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `DO $$
       DECLARE bad record;
       BEGIN
         SELECT organization_id, chain_seq INTO bad FROM (
           SELECT a.organization_id, a.chain_seq,
                  a.hash <> audit_log_digest(a.prev_hash, a.chain_seq, a)
                  OR (lag(a.chain_seq) OVER w IS NOT NULL AND a.prev_hash IS DISTINCT FROM lag(a.hash) OVER w) AS broken
             FROM audit_logs a
           WINDOW w AS (PARTITION BY a.organization_id ORDER BY a.chain_seq)
         ) checked WHERE broken LIMIT 1;
         IF FOUND THEN
           RAISE EXCEPTION 'audit chain of organization % is broken at chain_seq %: not re-hashing it',
             coalesce(bad.organization_id::text, '(installation)'), bad.chain_seq;
         END IF;
       END $$`,
      `ALTER TABLE "audit_logs" ADD "personal_salt" character varying(36)`,
      `ALTER TABLE "audit_logs" ADD "personal_digest" character(64)`,
      `ALTER TABLE "audit_logs" ADD "erased_at" TIMESTAMP WITH TIME ZONE`,
      `ALTER TABLE "audit_logs" ADD "impersonator_id" uuid`,
      `CREATE FUNCTION audit_log_personal_digest(r audit_logs) RETURNS character(64)
       LANGUAGE sql IMMUTABLE AS $$
         SELECT encode(sha256(convert_to(jsonb_build_array(r.personal_salt, r.ip, r.user_agent, r.metadata)::text, 'UTF8')), 'hex')
       $$`,
      `CREATE OR REPLACE FUNCTION audit_log_digest(prev character, seq bigint, r audit_logs) RETURNS character(64)
       LANGUAGE sql IMMUTABLE AS $$
         SELECT encode(sha256(convert_to(jsonb_build_array(
           prev, seq, r.id, (extract(epoch FROM r.occurred_at) * 1000000)::bigint, r.organization_id,
           r.actor_type, r.actor_id, r.action, r.target_type, r.target_id, r.outcome, r.request_id,
           r.impersonator_id, r.personal_digest
         )::text, 'UTF8')), 'hex')
       $$`,
      // FORCE ROW LEVEL SECURITY binds the owner too; the re-hash below is the owner's own work.
      `ALTER TABLE "audit_logs" NO FORCE ROW LEVEL SECURITY`,
      `UPDATE audit_logs SET personal_salt = gen_random_uuid()::text`,
      `UPDATE audit_logs a SET personal_digest = audit_log_personal_digest(a)`,
      `DO $$
       DECLARE r audit_logs; last_hash character(64); last_org uuid; first boolean := true;
       BEGIN
         FOR r IN SELECT * FROM audit_logs ORDER BY organization_id NULLS FIRST, chain_seq LOOP
           IF first OR r.organization_id IS DISTINCT FROM last_org THEN
             last_hash := NULL; last_org := r.organization_id; first := false;
           END IF;
           UPDATE audit_logs SET prev_hash = last_hash, hash = audit_log_digest(last_hash, r.chain_seq, r) WHERE id = r.id;
           last_hash := audit_log_digest(last_hash, r.chain_seq, r);
         END LOOP;
       END $$`,
      `ALTER TABLE "audit_logs" FORCE ROW LEVEL SECURITY`,
      `ALTER TABLE "audit_logs" ALTER COLUMN "personal_digest" SET NOT NULL`,
      `CREATE OR REPLACE FUNCTION audit_logs_chain() RETURNS trigger LANGUAGE plpgsql AS $$
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
         NEW.erased_at := NULL;
         NEW.personal_salt := gen_random_uuid()::text;
         NEW.personal_digest := audit_log_personal_digest(NEW);
         NEW.hash := audit_log_digest(NEW.prev_hash, NEW.chain_seq, NEW);
         RETURN NEW;
       END $$`,
      // The application still cannot update audit rows; it may only erase a person's personal data
      // through this function, which runs as the owner.
      `CREATE POLICY audit_erase ON audit_logs FOR UPDATE TO CURRENT_USER USING (true) WITH CHECK (true)`,
      `CREATE FUNCTION audit_log_erase_subject(subject uuid) RETURNS bigint
       LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
       DECLARE erased bigint;
       BEGIN
         IF subject IS NULL THEN
           RAISE EXCEPTION 'audit_log_erase_subject: a subject is required' USING ERRCODE = '22023';
         END IF;
         -- Only for an account already erased (its erasure is in the same transaction).
         IF NOT EXISTS (SELECT 1 FROM users WHERE id = subject AND erased_at IS NOT NULL) THEN
           RAISE EXCEPTION 'audit_log_erase_subject: % is not an erased account', subject USING ERRCODE = '22023';
         END IF;
         UPDATE audit_logs SET ip = NULL, user_agent = NULL, metadata = '{}'::jsonb, personal_salt = NULL, erased_at = now()
          WHERE (actor_id = subject OR target_id = subject::text) AND erased_at IS NULL;
         GET DIAGNOSTICS erased = ROW_COUNT;
         RETURN erased;
       END $$`,
      `REVOKE ALL ON FUNCTION audit_log_erase_subject(uuid) FROM PUBLIC`,
      `GRANT EXECUTE ON FUNCTION audit_log_erase_subject(uuid) TO app_user`,
      `GRANT EXECUTE ON FUNCTION audit_log_personal_digest(audit_logs) TO app_user`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Erased rows cannot get their data back; going down re-hashes what is there under the old digest.
    const statements = [
      `DROP FUNCTION audit_log_erase_subject(uuid)`,
      `DROP POLICY audit_erase ON audit_logs`,
      `CREATE OR REPLACE FUNCTION audit_logs_chain() RETURNS trigger LANGUAGE plpgsql AS $$
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
       END $$`,
      `CREATE OR REPLACE FUNCTION audit_log_digest(prev character, seq bigint, r audit_logs) RETURNS character(64)
       LANGUAGE sql IMMUTABLE AS $$
         SELECT encode(sha256(convert_to(jsonb_build_array(
           prev, seq, r.id, (extract(epoch FROM r.occurred_at) * 1000000)::bigint, r.organization_id,
           r.actor_type, r.actor_id, r.action, r.target_type, r.target_id, r.outcome, r.ip, r.user_agent,
           r.request_id, r.metadata
         )::text, 'UTF8')), 'hex')
       $$`,
      `DROP FUNCTION audit_log_personal_digest(audit_logs)`,
      `ALTER TABLE "audit_logs" DROP COLUMN "impersonator_id"`,
      `ALTER TABLE "audit_logs" DROP COLUMN "erased_at"`,
      `ALTER TABLE "audit_logs" DROP COLUMN "personal_digest"`,
      `ALTER TABLE "audit_logs" DROP COLUMN "personal_salt"`,
      `ALTER TABLE "audit_logs" NO FORCE ROW LEVEL SECURITY`,
      `DO $$
       DECLARE r audit_logs; last_hash character(64); last_org uuid; first boolean := true;
       BEGIN
         FOR r IN SELECT * FROM audit_logs ORDER BY organization_id NULLS FIRST, chain_seq LOOP
           IF first OR r.organization_id IS DISTINCT FROM last_org THEN
             last_hash := NULL; last_org := r.organization_id; first := false;
           END IF;
           UPDATE audit_logs SET prev_hash = last_hash, hash = audit_log_digest(last_hash, r.chain_seq, r) WHERE id = r.id;
           last_hash := audit_log_digest(last_hash, r.chain_seq, r);
         END LOOP;
       END $$`,
      `ALTER TABLE "audit_logs" FORCE ROW LEVEL SECURITY`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }
}
