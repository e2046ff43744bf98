import type { AppConfig } from '@app/config';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
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
  return SwaggerModule.createDocument(app, builder, { extraModels: [ProblemDetailsDto, FieldErrorDto] });
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

/** Swagger UI at /docs, the document at /openapi.json, a ReDoc reference at /redoc. */
export function mountApiDocs(app: INestApplication, config: AppConfig): void {
  const document = buildOpenApiDocument(app, config);
  SwaggerModule.setup('docs', app, document, {
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
