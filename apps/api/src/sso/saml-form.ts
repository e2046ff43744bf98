import type { FastifyInstance } from 'fastify';

/** The one route that takes a form post: the SAML HTTP-POST binding's assertion consumer. */
const ACS_PATH = /^\/api\/v1\/sso\/saml\/[0-9a-fA-F-]{36}\/acs\/?(\?|$)/;

/**
 * Parses `application/x-www-form-urlencoded` for the ACS route only (an IdP posts the
 * SAMLResponse from the browser as a form); every other route still refuses anything but JSON
 * with 415, as before. Bounded by the body limit like any body.
 */
export function installSamlFormParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (request, body: string, done: (error: Error | null, body?: unknown) => void) => {
      if (!ACS_PATH.test(request.url)) {
        done(
          Object.assign(new Error('Unsupported Media Type'), {
            code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
            statusCode: 415,
          }),
        );
        return;
      }
      const form = Object.create(null) as Record<string, string>;
      for (const [key, value] of new URLSearchParams(body)) {
        // First value wins; a repeated field cannot smuggle a second response.
        if (!(key in form)) form[key] = value;
      }
      done(null, form);
    },
  );
}
