import {
  type AppLogger,
  createAppLogger,
  createValidationPipe,
  newId,
  ProblemDetailsFilter,
  type ProblemFormat,
  routeUrlOf,
  sendProblem,
} from '@app/common';
import type { AppConfig } from '@app/config';
import { traceFields } from '@app/telemetry';
import { Logger, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { ApiModule } from './api.module';
import { renderScimError, SCIM_PATH } from './scim/scim-errors';

/** SCIM routes answer errors in SCIM's own schema (RFC 7644 §3.12), whatever layer refused. */
const PROBLEM_FORMATS: ProblemFormat[] = [{ path: SCIM_PATH, render: renderScimError }];
import { mountQueueBoard } from './queue-board/queue-board';
import { mountApiDocs } from './openapi/openapi';
import { instrument } from './metrics';
import { installHttpDrain } from './http-drain';
import { installJsonBodyParser } from './json-body';
import { RefusalRecorder } from './security-events/refusal-recorder';
import { installSamlFormParser } from './sso/saml-form';
import { openRequestContext } from './request-context';
import { auditActor, type Principal } from '@app/auth';
import { installGraphqlAddressLimit } from './graphql/address-limit';
import { GRAPHQL_PATH } from './graphql/graphql-api.module';
import { RateLimitStorage } from './rate-limit/rate-limit.storage';
import { corsOptions, DOCS_CSP, GRAPHIQL_CSP, securityHeaders } from './security-headers';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes the caller's X-Request-ID when it is sane, otherwise makes one. */
function requestIdFor(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  const candidate = Array.isArray(header) ? header[0] : header;
  const id = candidate && REQUEST_ID_PATTERN.test(candidate) ? candidate : newId();
  // Echoed back and logged under this id; the request context takes request.id (request-context.ts).
  request.headers['x-request-id'] = id;
  return id;
}

export interface ApiAppOptions {
  /** Replace the JSON logger (tests pass a silent one). */
  logger?: AppLogger;
  /** Extra feature modules mounted under /api/v1 (tests of the framework's building blocks). */
  extraModules?: Type[];
}

/**
 * Builds the api exactly as production runs it, without listening. main.ts listens;
 * the e2e tests call init() and talk to it through app.inject or a real port.
 */
/**
 * Nest sets Fastify's error handler late in app.init(), but a route keeps the handler that was
 * current when Fastify finalized it, and registering a plugin during init (the GraphQL driver
 * registers Mercurius) finalizes the routes declared so far. So the api sets its own handler before
 * anything else (the same mapping as Nest's: the problem+json of ProblemDetailsFilter), and this
 * adapter leaves it in place instead of overriding it in the same scope.
 */
/** An error Fastify raised itself (routing, a refused body), answered as problem+json (or SCIM's format). */
function answerFastifyError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendProblem(
    error,
    request,
    reply,
    new Logger('Routing'),
    PROBLEM_FORMATS.find((format) => format.path.test(request.url.split('?')[0] ?? ''))?.render,
  );
}

class ApiFastifyAdapter extends FastifyAdapter {
  override setErrorHandler(): ReturnType<FastifyAdapter['setErrorHandler']> {
    return this.getInstance();
  }
}

export async function createApiApp(config: AppConfig, options: ApiAppOptions = {}): Promise<NestFastifyApplication> {
  const logger = options.logger ?? createAppLogger(config.logLevel, 'api', undefined, config.logFormat);
  const adapter = new ApiFastifyAdapter({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    genReqId: requestIdFor,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Errors raised while routing (a malformed URL, a 200+ character path segment) before Nest
    // sees the request: problem+json like every other error.
    frameworkErrors: answerFastifyError,
    // Which X-Forwarded-For hops to believe for request.ip (rate limits, audit rows): TRUST_PROXY.
    trustProxy:
      typeof config.http.trustProxy === 'number'
        ? (
            (hops: number) => (_address: string, hop: number) =>
              hop < hops
          )(config.http.trustProxy)
        : config.http.trustProxy,
  });
  const fastify = adapter.getInstance();
  // Errors Fastify raises itself on a route (a body it refused), as problem+json; see ApiFastifyAdapter.
  fastify.setErrorHandler(answerFastifyError);
  // Only JSON bodies: anything else is 415, not a string the validators were not written for.
  fastify.removeContentTypeParser(['text/plain']);
  installJsonBodyParser(fastify);
  // SCIM Groups take member lists of up to 10,000 ids in one request: a larger bound there only.
  fastify.addHook('onRoute', (route) => {
    if (SCIM_PATH.test(route.url) && route.url.includes('/Groups')) route.bodyLimit = config.scimBodyLimitBytes;
    // GraphQL documents are small; their parsed form is cached by text (GRAPHQL_BODY_LIMIT_BYTES).
    if (route.url === GRAPHQL_PATH) route.bodyLimit = config.graphql.bodyLimitBytes;
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    done(null, payload);
  });
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (logger.pino.isLevelEnabled('debug')) {
      logger.pino.debug(
        { requestId: request.id, method: request.method, path: request.url.split('?')[0] },
        'request received',
      );
    }
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const principal = (request as { principal?: Principal }).principal;
    logger.access.info(
      {
        requestId: request.id,
        ...traceFields(),
        method: request.method,
        route: routeUrlOf(request) ?? null,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        ...(principal?.kind === 'user' ? { userId: principal.userId } : {}),
        ...(principal?.kind === 'apiKey' ? { apiKeyId: principal.apiKeyId, orgId: principal.organizationId } : {}),
        ...(principal && principal.kind !== 'user' && principal.kind !== 'apiKey'
          ? { actor: `${auditActor(principal).actorType}:${auditActor(principal).actorId}` }
          : {}),
        ...((request.params as { orgId?: string } | undefined)?.orgId
          ? { orgId: (request.params as { orgId: string }).orgId }
          : {}),
      },
      'request',
    );
    done();
  });

  const app = await NestFactory.create<NestFastifyApplication>(
    ApiModule.forRoot(config, options.extraModules),
    adapter,
    {
      logger,
      bodyParser: false,
      abortOnError: false,
    },
  );
  openRequestContext(app, fastify);
  instrument(app, config);
  const headers = securityHeaders(config);
  fastify.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers);
    done();
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    // The documentation pages run Swagger UI / ReDoc: scripts and styles from this origin only.
    // So does the queue dashboard (Bull Board).
    if (/^\/(docs|redoc|admin\/queues)(\/|$|\?)/.test(request.url)) {
      void reply.header('content-security-policy', DOCS_CSP);
    } else if (config.graphql.graphiql && /^\/graphiql(\/|$|\?|\.)/.test(request.url)) {
      void reply.header('content-security-policy', GRAPHIQL_CSP);
    }
    done(null, payload);
  });
  app.get(RefusalRecorder).install(fastify);
  installSamlFormParser(fastify);
  installHttpDrain(app, fastify);
  if (config.graphql.enabled) installGraphqlAddressLimit(fastify, app.get(RateLimitStorage), config, GRAPHQL_PATH);
  if (config.http.corsOrigins.length > 0) app.enableCors(corsOptions(config.http.corsOrigins));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter(PROBLEM_FORMATS));
  if (config.docsEnabled) mountApiDocs(app, config);
  mountQueueBoard(app, config);
  if (config.jwtSecretGenerated) {
    new Logger('Config').warn('JWT_SECRET is not set: using a random secret; tokens die with this process.');
  }
  return app;
}
