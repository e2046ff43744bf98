import { TenantTransaction } from '@app/database';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { PERMISSION_KEYS, PERMISSIONS } from './permission-catalogue';
import { SYSTEM_ROLES } from './system-roles';

/**
 * Makes the permissions table and the system roles match the code at every start (idempotent,
 * safe with several replicas starting at once). Permissions removed from the code disappear from
 * every role that had them.
 */
@Injectable()
export class CatalogueSync implements OnApplicationBootstrap {
  private readonly logger = new Logger('CatalogueSync');

  constructor(private readonly transactions: TenantTransaction) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.transactions.runAsSystem(async (manager) => {
      for (const key of PERMISSION_KEYS) {
        const { description, scopes } = PERMISSIONS[key];
        await manager.query(
          `INSERT INTO permissions (key, description, scopes) VALUES ($1, $2, $3)
           ON CONFLICT (key) DO UPDATE SET description = EXCLUDED.description, scopes = EXCLUDED.scopes`,
          [key, description, scopes],
        );
      }
      await manager.query(`DELETE FROM permissions WHERE NOT (key = ANY($1))`, [PERMISSION_KEYS]);
      for (const role of Object.values(SYSTEM_ROLES)) {
        await manager.query(
          `INSERT INTO roles (id, organization_id, name, description, scope, is_system)
           VALUES ($1, NULL, $2, $3, $4, true)
           ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, scope = EXCLUDED.scope`,
          [role.id, role.name, role.description, role.scope],
        );
        await manager.query(`DELETE FROM role_permissions WHERE role_id = $1 AND NOT (permission_key = ANY($2))`, [
          role.id,
          [...role.permissions],
        ]);
        await manager.query(
          `INSERT INTO role_permissions (role_id, permission_key, organization_id)
           SELECT $1, unnest($2::varchar[]), NULL ON CONFLICT DO NOTHING`,
          [role.id, [...role.permissions]],
        );
      }
    });
    this.logger.log(`${PERMISSION_KEYS.length} permissions, ${Object.keys(SYSTEM_ROLES).length} system roles in sync`);
  }
}
