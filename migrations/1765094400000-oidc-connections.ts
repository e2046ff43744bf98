import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OpenID Connect connections beside SAML ones: an organization's own issuer, client id and
 * (sealed) client secret. The SAML columns become optional, and a check keeps each type whole.
 */
export class OidcConnections1765094400000 implements MigrationInterface {
  name = 'OidcConnections1765094400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `ALTER TABLE "sso_connections" ALTER COLUMN "idp_entity_id" DROP NOT NULL`,
      `ALTER TABLE "sso_connections" ALTER COLUMN "idp_sso_url" DROP NOT NULL`,
      `ALTER TABLE "sso_connections" ADD "oidc_issuer" character varying(2000)`,
      `ALTER TABLE "sso_connections" ADD "oidc_client_id" character varying(500)`,
      `ALTER TABLE "sso_connections" ADD "oidc_client_secret" text`,
      `ALTER TABLE "sso_connections" ADD "oidc_scopes" character varying(500)`,
      `ALTER TABLE "sso_connections" ADD CONSTRAINT "sso_connections_type_fields_check" CHECK (("type" = 'saml' AND "idp_entity_id" IS NOT NULL AND "idp_sso_url" IS NOT NULL) OR ("type" = 'oidc' AND "oidc_issuer" IS NOT NULL AND "oidc_client_id" IS NOT NULL AND "oidc_client_secret" IS NOT NULL))`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `DELETE FROM "sso_connections" WHERE "type" = 'oidc'`,
      `ALTER TABLE "sso_connections" DROP CONSTRAINT "sso_connections_type_fields_check"`,
      `ALTER TABLE "sso_connections" DROP COLUMN "oidc_scopes"`,
      `ALTER TABLE "sso_connections" DROP COLUMN "oidc_client_secret"`,
      `ALTER TABLE "sso_connections" DROP COLUMN "oidc_client_id"`,
      `ALTER TABLE "sso_connections" DROP COLUMN "oidc_issuer"`,
      `ALTER TABLE "sso_connections" ALTER COLUMN "idp_sso_url" SET NOT NULL`,
      `ALTER TABLE "sso_connections" ALTER COLUMN "idp_entity_id" SET NOT NULL`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }
}
