import { Global, Injectable, Module } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { processShared } from './process-shared';

/**
 * The application's Prometheus metrics, one registry per application instance (tests run several
 * in one process), rendered together with the process's own figures. Labels are bounded: routes
 * are route patterns, never raw URLs.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly httpInFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests being served.',
    registers: [this.registry],
  });

  /** Every audited event: sign-in failures, lockouts, denials… (action and outcome are code-defined). */
  readonly auditEvents = new Counter({
    name: 'audit_events_total',
    help: 'Audited events by action and outcome (auth.login failure, auth.lockout, access.denied, ...).',
    labelNames: ['action', 'outcome'] as const,
    registers: [this.registry],
  });

  /** Refusals counted in the security-event stream (cross-tenant probes, permission denials). */
  readonly securityEvents = new Counter({
    name: 'security_events_total',
    help: 'Refused requests in the security-event stream, by kind (cross-tenant-probe, permission-denied).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'rate_limit_refusals_total',
    help: 'Requests refused with 429, by limit.',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  readonly rateLimitStoreFailures = new Counter({
    name: 'rate_limit_store_failures_total',
    help: 'Requests the limiter could not count (Redis unreachable), by fail mode.',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });

  readonly auditChainVerifications = new Counter({
    name: 'audit_chain_verifications_total',
    help: "Verifications of an organization's audit hash chain, by result (valid, broken).",
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'job_duration_seconds',
    help: 'Background job run time by job name and outcome.',
    labelNames: ['job', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
    registers: [this.registry],
  });

  /**
   * The process's own figures (CPU, memory, event loop delay, GC): one set per process however
   * many applications it runs. prom-client's collectors never stop (the GC one is a
   * PerformanceObserver, the event loop one a native histogram), so one per application would
   * pile up in a process that makes several (tests, a CLI next to the api).
   */
  private readonly processMetrics = processShared('prometheus-process-metrics', () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    return registry;
  });

  /** A gauge read at scrape time (pool sizes, queue depths). */
  gauge(name: string, help: string, labelNames: string[], read: () => Array<[Record<string, string>, number]>): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  }

  /** The same, for values that take a round trip to read (queue depths in Redis). */
  asyncGauge(
    name: string,
    help: string,
    labelNames: string[],
    read: () => Promise<Array<[Record<string, string>, number]>>,
  ): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [labels, value] of await read()) this.set(labels, value);
      },
    });
  }

  async render(): Promise<string> {
    const [own, process] = await Promise.all([this.registry.metrics(), this.processMetrics.metrics()]);
    return `${own}\n${process}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}
