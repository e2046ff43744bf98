import type { MigrationInterface, QueryRunner } from 'typeorm';

/** How many decoy rows there are; a sign-in for an unknown address writes the one its address maps to. */
export const LOGIN_DECOY_SLOTS = 1024;

/**
 * Rows a sign-in for an address without an account reserves its attempt on. Each password check
 * first writes one row: the account's, or for an unknown address one of these. Before, the unknown
 * address's reservation matched no row, so its transaction wrote nothing and its commit did not
 * wait for the write-ahead log to reach disk; the account's did. That made a wrong password for a
 * registered address about a millisecond slower than for an unknown one, measurably so (bench/report.md,
 * account-existence timing). The rows carry the same counters as `users` so the statement is the same.
 */
export class LoginDecoys1766217600000 implements MigrationInterface {
  name = 'LoginDecoys1766217600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE login_decoys (
         slot integer PRIMARY KEY CHECK (slot >= 0 AND slot < ${LOGIN_DECOY_SLOTS}),
         failed_login_attempts integer NOT NULL DEFAULT 0,
         locked_until timestamptz,
         attempt_reserved_at timestamptz
       )`,
      `INSERT INTO login_decoys (slot) SELECT generate_series(0, ${LOGIN_DECOY_SLOTS - 1})`,
      `REVOKE ALL ON login_decoys FROM PUBLIC`,
      `GRANT SELECT, UPDATE ON login_decoys TO app_user`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE login_decoys`);
  }
}
