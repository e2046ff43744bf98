import type { AppConfig } from '@app/config';
import type { FastifyInstance } from 'fastify';
import type { RateLimitStorage } from '../rate-limit/rate-limit.storage';

const MINUTE_MS = 60_000;
/** Per client address, /graphql requests a minute: the general limit, ten times over (NATs, offices). */
const ADDRESS_ALLOWANCE = 10;

/**
 * Every request to /graphql counts against its client address before anything is parsed. The
 * caller's own limit is counted at the first field (by cost); a request that never reaches a field
 * (it does not parse or validate, or carries no valid credential) would otherwise be free to repeat.
 */
export function installGraphqlAddressLimit(
  fastify: FastifyInstance,
  storage: RateLimitStorage,
  config: AppConfig,
  path: string,
): void {
  const limit = config.http.rateLimitPerMinute * ADDRESS_ALLOWANCE;
  const withQuery = `${path}?`;
  // A callback hook, not an async one: every request of every route passes here, and all but the
  // GraphQL ones leave at once, without a promise and a microtask turn of their own.
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.url !== path && !request.url.startsWith(withQuery)) {
      done();
      return;
    }
    storage.increment(`graphql-ip:${request.ip}`, MINUTE_MS, limit, MINUTE_MS, 1, true).then(
      (record) => {
        if (!record.isBlocked) {
          done();
          return;
        }
        const retryAfter = Math.max(1, record.timeToBlockExpire);
        // Answered here: Fastify stops the request at a hook that sends and does not call done.
        void reply
          .code(429)
          .header('retry-after', String(retryAfter))
          .type('application/json; charset=utf-8')
          .send({
            data: null,
            errors: [
              {
                message: `Too many requests from this address; retry in ${retryAfter} s.`,
                extensions: { code: 'RATE_LIMITED', status: 429 },
              },
            ],
          });
      },
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });
}
