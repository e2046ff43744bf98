import type { AppConfig } from '@app/config';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { eventBodySchema, eventCatalogue } from '@app/events';
import { FieldErrorDto, ProblemDetailsDto } from './problem-details.dto';

export function buildOpenApiDocument(app: INestApplication, config: AppConfig): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle(config.appName)
    .setDescription(
      'Multi-tenant SaaS backend. Errors are RFC 9457 problem details (application/problem+json). ' +
        'Every request may carry X-Request-ID; the response echoes it.',
    )
    .setVersion('1')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description: 'An access token from /auth/login, or an API key (sak_…) on organization routes.',
      },
      'bearer',
    )
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An organization API key (sak_…).' },
      'api-key',
    )
    .build();
  const document = SwaggerModule.createDocument(app, builder, { extraModels: [ProblemDetailsDto, FieldErrorDto] });
  return withWebhooks(toOpenApi31(document));
}

/**
 * @nestjs/swagger writes OpenAPI 3.0; the document is served as 3.1 (JSON Schema 2020-12), which
 * has a `webhooks` section: `nullable: true` becomes a `null` member of the type (or an anyOf
 * beside a $ref), the one 3.0 construct the generator emits that 3.1 dropped.
 */
export function toOpenApi31(document: OpenAPIObject): OpenAPIObject {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== 'object' || value === null) return value;
    const node = Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item)])) as Record<
      string,
      unknown
    >;
    // Only the keyword (a boolean): a property that happens to be called "nullable" is left alone.
    if (typeof node.nullable !== 'boolean') return node;
    const nullable = node.nullable;
    delete node.nullable;
    if (!nullable) return node;
    if (typeof node.type === 'string') return { ...node, type: [node.type, 'null'] };
    if (Array.isArray(node.type)) return { ...node, type: [...new Set([...(node.type as string[]), 'null'])] };
    const { description, ...rest } = node;
    return { ...(description !== undefined ? { description } : {}), anyOf: [rest, { type: 'null' }] };
  };
  return { ...(walk(document) as OpenAPIObject), openapi: '3.1.0' };
}

/** The event catalogue as OpenAPI 3.1 webhooks: what a registered endpoint receives, one schema per type. */
function withWebhooks(document: OpenAPIObject): OpenAPIObject {
  const header = (name: string, description: string) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema: { type: 'string' },
  });
  const webhooks = Object.fromEntries(
    eventCatalogue().map((definition) => [
      definition.type,
      {
        post: {
          summary: definition.description,
          description:
            `Sent to every enabled endpoint that takes \`${definition.type}\` (or every type), signed per the ` +
            'Standard Webhooks specification. Answer 2xx within WEBHOOK_TIMEOUT; anything else is retried on ' +
            'WEBHOOK_RETRY_SCHEDULE with the same webhook-id. Order between deliveries is not guaranteed.',
          tags: ['webhooks'],
          parameters: [
            header('webhook-id', 'msg_<delivery id>: the same on every attempt; drop repeats by it.'),
            header('webhook-timestamp', 'Seconds since the epoch when this attempt was signed.'),
            header(
              'webhook-signature',
              'v1,<base64 HMAC-SHA256 of id.timestamp.body>, space-separated during a rotation.',
            ),
          ],
          requestBody: { required: true, content: { 'application/json': { schema: eventBodySchema(definition) } } },
          responses: { '2XX': { description: 'Received.' } },
        },
      },
    ]),
  );
  return { ...document, webhooks } as OpenAPIObject;
}

const REDOC_PAGE = (title: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${title} - API reference</title>
  </head>
  <body>
    <redoc spec-url="/openapi.json"></redoc>
    <script src="/redoc/redoc.standalone.js"></script>
  </body>
</html>`;

const documents = new WeakMap<INestApplication, () => OpenAPIObject>();

/**
 * Swagger UI at /docs, the document at /openapi.json, a ReDoc reference at /redoc. The document is
 * built on first use (about 0.4 s of CPU for this api): main.ts builds it before listening with
 * `prepareApiDocs`, so a served api has it ready and a broken one fails to start; an app made by a
 * test that never reads the docs does not pay for it.
 */
export function mountApiDocs(app: INestApplication, config: AppConfig): void {
  let document: OpenAPIObject | undefined;
  const built = () => (document ??= buildOpenApiDocument(app, config));
  documents.set(app, built);
  SwaggerModule.setup('docs', app, built, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
    customSiteTitle: `${config.appName} - API`,
  });
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  const page = REDOC_PAGE(config.appName.replace(/[<>&"]/g, ''));
  let bundle: Buffer | undefined;
  fastify.get('/redoc', (_request, reply) => {
    void reply.type('text/html; charset=utf-8').send(page);
  });
  fastify.get('/redoc/redoc.standalone.js', (_request, reply) => {
    bundle ??= readFileSync(require.resolve('redoc/bundles/redoc.standalone.js'));
    void reply
      .type('application/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=86400')
      .send(bundle);
  });
}

/** Builds the OpenAPI document now, if the docs are mounted (throws what the generator throws). */
export function prepareApiDocs(app: INestApplication): void {
  documents.get(app)?.();
}
