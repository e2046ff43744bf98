import { ProblemException } from '@app/common';
import type { FastifyInstance } from 'fastify';

/** No request body of this api nests deeper than a few levels; 32 leaves room and stops abuse. */
export const MAX_JSON_DEPTH = 32;

/**
 * True when arrays and objects nest deeper than `limit` (brackets inside strings do not count).
 * One pass over the characters, before any parser or transformer recurses into the value: a body
 * of 5,000 nested arrays must be a 400, not a stack overflow somewhere in class-transformer.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c)
        i += 1; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
      continue;
    }
    if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === 0x5d || code === 0x7d) depth -= 1;
  }
  return false;
}

/**
 * Fastify's own JSON parser (prototype-poisoning checks and all), behind a nesting bound.
 * Refusal: 400 `/problems/json-too-deep`.
 */
export function installJsonBodyParser(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  // application/scim+json is JSON too (SCIM clients send it), under the same bound.
  fastify.addContentTypeParser(
    ['application/json', 'application/scim+json'],
    { parseAs: 'string' },
    (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
        done(
          new ProblemException({
            status: 400,
            slug: 'json-too-deep',
            title: 'Bad Request',
            detail: `The request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`,
          }),
          undefined,
        );
        return;
      }
      // The default parser answers through `done` (its type also allows a promise, never returned here).
      void parse(request, text, done);
    },
  );
}
