import { AppLogger } from '@app/common';
import pino from 'pino';
import { Writable } from 'node:stream';
import { createTestApp, startOwnRedis, type OwnRedis } from '@app/testing';

/** A Redis that may evict keys (allkeys-lru) would lose BullMQ's jobs: reported at start. */
describe('Redis eviction policy at start', () => {
  let evicting: OwnRedis;

  beforeAll(async () => {
    evicting = await startOwnRedis(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
  });
  afterAll(async () => {
    await evicting?.destroy();
  });

  it('refuses to start with REDIS_EVICTION_POLICY_CHECK=refuse, naming the policy', async () => {
    await expect(
      createTestApp({ env: { REDIS_URL: evicting.url, REDIS_EVICTION_POLICY_CHECK: 'refuse' } }),
    ).rejects.toThrow(/maxmemory-policy is allkeys-lru; BullMQ needs noeviction/);
  });

  it('starts and warns by default', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const t = await createTestApp({
      env: { REDIS_URL: evicting.url, LOG_LEVEL: 'warn' },
      logger: new AppLogger(pino({ level: 'warn' }, sink)),
    });
    try {
      expect(lines.join('')).toContain('maxmemory-policy is allkeys-lru');
      expect((await t.inject({ method: 'GET', url: '/api/v1/health' })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
