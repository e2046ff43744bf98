import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { IncomingMessage } from 'node:http';

/** Probes and scrapes arrive every few seconds from every replica: not worth a trace each. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|\?|$)|^\/api\/v1\/health(\/|\?|$)/;

/**
 * The SDK proper (loaded by tracing.ts only when an endpoint is configured). Everything else comes
 * from the standard OTEL_* variables the libraries read themselves: OTEL_EXPORTER_OTLP_ENDPOINT
 * (spans go to `<endpoint>/v1/traces` as OTLP/HTTP JSON), OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*.
 */
export function startSdk(defaultServiceName: string): NodeTracerProvider {
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: defaultServiceName,
    [ATTR_SERVICE_VERSION]: process.env.npm_package_version ?? '0.1.0',
  }).merge(detectResources({ detectors: [envDetector] }));

  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // Installs the async-hooks context manager and the W3C traceparent/baggage propagators.
  provider.register();

  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED_PATHS.test(request.url ?? ''),
        // Header values can hold credentials: none are recorded.
        headersToSpanAttributes: { server: { requestHeaders: [], responseHeaders: [] } },
        // Query strings can too (an OAuth callback's code and state, a sign-in link's token):
        // only whether there was one is kept. Overrides the attribute the instrumentation derives.
        startIncomingSpanHook: (request: IncomingMessage) =>
          request.url?.includes('?') ? { 'url.query': 'REDACTED' } : {},
      }),
      new UndiciInstrumentation(),
      // Statement text only, never the bound values (they hold emails, hashes and tokens).
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
      // The command name only: the arguments are keys that name accounts and addresses (rate
      // limits, OAuth state) and job payloads that carry mail bodies and their links.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });
  return provider;
}
