import { ProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { RateLimitStorage } from './rate-limit.storage';

const config = (env: Record<string, string>) =>
  AppConfig.fromEnv({ JWT_SECRET: 'x'.repeat(40), NODE_ENV: 'test', ...env });

describe('RateLimitStorage', () => {
  it('counts in memory per key, blocks over the limit, and starts a new window after ttl', async () => {
    const storage = new RateLimitStorage(config({}));
    const hit = () => storage.increment('k', 200, 2, 200);
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await hit()).toMatchObject({ totalHits: 2, isBlocked: false });
    expect(await hit()).toMatchObject({ totalHits: 3, isBlocked: true });
    expect((await storage.increment('other', 200, 2, 200)).isBlocked).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  describe('with Redis unreachable', () => {
    // A real client against a port nothing listens on.
    const unreachable = { REDIS_URL: 'redis://127.0.0.1:1' };

    it('fails open by default: the request passes and is counted as such', async () => {
      const storage = new RateLimitStorage(config(unreachable));
      try {
        expect(await storage.increment('k', 60_000, 1, 60_000)).toMatchObject({ isBlocked: false });
        expect(storage.failedOpen).toBe(1);
      } finally {
        await storage.onModuleDestroy();
      }
    });

    it('fails closed when told to: 503 problem', async () => {
      const storage = new RateLimitStorage(config({ ...unreachable, RATE_LIMIT_FAIL_MODE: 'closed' }));
      try {
        const error = await storage.increment('k', 60_000, 1, 60_000).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(ProblemException);
        expect((error as ProblemException).problem).toMatchObject({ status: 503, slug: 'rate-limiter-unavailable' });
      } finally {
        await storage.onModuleDestroy();
      }
    });
  });
});
