import type * as OtelSdk from './otel-sdk';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
 *
 * The SDK and its instrumentations are loaded only when tracing is on: a process without an
 * endpoint pays for `@opentelemetry/api` (a no-op tracer) and nothing else. `startTracing` must run
 * before `pg`, `ioredis` or `http` are first required, since the instrumentations patch them as
 * they load: each app's main.ts imports its `tracing.ts` before anything else.
 */
let provider: { shutdown(): Promise<void> } | undefined;

export function tracingEnabled(): boolean {
  return provider !== undefined;
}

/** Starts the SDK when the environment asks for it; returns whether it did. */
export function startTracing(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (provider || !env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) return false;
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  // Loaded here, synchronously, so the patches are in place before the rest of the app loads.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('./otel-sdk') as typeof OtelSdk;
  provider = sdk.startSdk(defaultServiceName);
  return true;
}

/**
 * Flushes the spans still buffered and stops exporting (on shutdown). Waits at most `timeoutMs`:
 * an unreachable collector must not push the process past its shutdown budget.
 */
export async function stopTracing(timeoutMs = 5_000): Promise<void> {
  const current = provider;
  provider = undefined;
  if (!current) return;
  await Promise.race([current.shutdown(), sleep(timeoutMs, undefined, { ref: false })]);
}

/**
 * Names the incoming request's server span after its route pattern (`GET /api/v1/organizations/:orgId`)
 * rather than the raw path, so traces group by endpoint and ids stay out of span names.
 */
export function nameServerSpan(method: string, route: string | undefined, clientAddress?: string): void {
  if (!provider || !route) return;
  const span = trace.getActiveSpan();
  if (!span) return;
  span.updateName(`${method} ${route}`);
  span.setAttribute('http.route', route);
  // The address Fastify resolved under TRUST_PROXY, not whatever X-Forwarded-For claims.
  if (clientAddress) span.setAttribute('client.address', clientAddress);
}

/**
 * Runs `work` outside any trace: for background work a request merely sets off (the outbox relay
 * after a commit), which would otherwise appear inside that request's trace.
 */
export function untraced<T>(work: () => T): T {
  return context.with(ROOT_CONTEXT, work);
}

/** trace_id and span_id of the active span, for log lines; empty when tracing is off. */
export function traceFields(): { traceId?: string; spanId?: string } {
  if (!provider) return {};
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext ? { traceId: spanContext.traceId, spanId: spanContext.spanId } : {};
}

/** Runs a queue job inside a consumer span, so its queries and calls hang under one root. */
export async function jobSpan<T>(jobName: string, attributes: Attributes, run: () => Promise<T>): Promise<T> {
  if (!provider) return run();
  const tracer = trace.getTracer('saas-jobs');
  // A job is its own trace, not a child of whatever request happened to enqueue or poll it.
  return tracer.startActiveSpan(
    `job ${jobName}`,
    { kind: SpanKind.CONSUMER, root: true, attributes: { 'job.name': jobName, ...attributes } },
    context.active(),
    async (span) => {
      try {
        return await run();
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'failed' });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
