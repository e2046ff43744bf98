import type { AppConfig } from '@app/config';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

type CorsOptions = NonNullable<Parameters<NestFastifyApplication['enableCors']>[0]>;

/** The api serves JSON only: it needs no scripts, styles, frames or anything else from anywhere. */
const API_CSP = {
  defaultSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
};

/**
 * Swagger UI, ReDoc and the queue dashboard, all served from this origin. Scripts: from this origin
 * only; none of the three pages has an inline script (Swagger UI's start-up is swagger-ui-init.js,
 * Bull Board's inline block is JSON data, which is never run), and a test fails if one appears.
 * Styles: inline allowed, because ReDoc (styled-components) and Swagger UI write <style> elements
 * and style attributes at run time, and their static pages carry <style> blocks; styles cannot run
 * code, and connect-src/img-src keep them from sending anything elsewhere.
 */
/**
 * GraphiQL (development only: GRAPHQL graphiql is never on in production), which mercurius serves
 * with React and GraphiQL loaded from unpkg.com: that one origin is allowed on its pages only.
 */
export const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self' https://unpkg.com",
  "style-src 'self' 'unsafe-inline' https://unpkg.com",
  "img-src 'self' data:",
  "font-src 'self' data: https://unpkg.com",
  "worker-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

/** Browser features an API response never needs. */
export const PERMISSIONS_POLICY = 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()';

export function helmetOptions(config: AppConfig): HelmetOptions {
  return {
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Only where TLS is guaranteed (production sits behind an HTTPS ingress).
    hsts: config.isProduction ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
  };
}

/**
 * The response headers helmet would set, worked out once. None of them depends on the request
 * (no CSP nonces here), and asking helmet on every request (as @fastify/helmet does) cost about
 * 6% of a cheap request's CPU in the benchmark profile.
 */
export function securityHeaders(config: AppConfig): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  } as unknown as ServerResponse;
  let failure: Error | undefined;
  helmet(helmetOptions(config))({} as IncomingMessage, response, (error?: unknown) => {
    if (error) failure = error instanceof Error ? error : new Error('helmet refused its options');
  });
  if (failure) throw failure;
  headers['permissions-policy'] = PERMISSIONS_POLICY;
  // Answers carry accounts, tenants' data and tokens: no browser or shared cache may keep them
  // (OWASP REST Security). What may be cached says so itself (ReDoc's script bundle, the JWKS,
  // static assets), and a route's own cache-control replaces this one.
  headers['cache-control'] = 'no-store';
  return Object.freeze(headers);
}

/**
 * CORS for the listed origins only (exact match; no wildcard, since credentials are allowed).
 * Other origins get no CORS headers, so browsers refuse them; preflights are answered before routing.
 */
export function corsOptions(origins: string[]): CorsOptions {
  const allowed = new Set(origins);
  return {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-api-key', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after'],
    maxAge: 600,
  };
}
