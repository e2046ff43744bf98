import { ClsServiceManager } from 'nestjs-cls';

/** A symbol: nestjs-cls reads a string key as a dotted path (split and walked on every get and set); a symbol is one property lookup. */
export const TENANT_KEY = Symbol('tenant.organizationId');

/** The organization of the current request, set by the authorization guard. */
export const TenantContext = {
  /** Throws when no tenant is set: a forgotten scope fails loudly instead of leaking. */
  require(): string {
    const organizationId = TenantContext.current();
    if (!organizationId) throw new Error('No tenant in this context: the route needs @RequirePermissions with :orgId.');
    return organizationId;
  },
  current(): string | undefined {
    const cls = ClsServiceManager.getClsService();
    return cls.isActive() ? cls.get<string | undefined>(TENANT_KEY) : undefined;
  },
};
