import { TenantTransaction } from '@app/database';
import { InvalidationBus } from '@app/queue';
import { Injectable, type OnModuleInit } from '@nestjs/common';

const TOPIC = 'platform-admins';
const CACHE_TTL_MS = 30_000;
const MAX_ENTRIES = 50_000;

/**
 * "Is this user a platform admin?", cached per user. Grants and revocations through the api
 * invalidate every replica at once; a change made directly in the database (the CLI without Redis)
 * is seen within the cache lifetime.
 */
@Injectable()
export class PlatformAdmins implements OnModuleInit {
  private readonly cache = new Map<string, { isAdmin: boolean; cachedUntil: number }>();

  constructor(
    private readonly transactions: TenantTransaction,
    private readonly bus: InvalidationBus,
  ) {}

  onModuleInit(): void {
    this.bus.on(TOPIC, (payload) => this.cache.delete((payload as { userId: string }).userId));
    this.bus.onReset(() => this.cache.clear());
  }

  async isPlatformAdmin(userId: string): Promise<boolean> {
    const now = Date.now();
    const cached = this.bus.live ? this.cache.get(userId) : undefined;
    if (cached && cached.cachedUntil > now) return cached.isAdmin;
    const rows = await this.transactions.runWithoutTenant((manager) =>
      manager.query<unknown[]>('SELECT 1 FROM users WHERE id = $1 AND is_platform_admin AND is_active', [userId]),
    );
    const isAdmin = rows.length > 0;
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(userId, { isAdmin, cachedUntil: now + CACHE_TTL_MS });
    return isAdmin;
  }

  /** Call after committing a change to the user's platform-admin flag or active state. */
  invalidate(userId: string): Promise<void> {
    return this.bus.publish(TOPIC, { userId });
  }
}
