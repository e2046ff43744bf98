import { jobSpan, nameServerSpan, startTracing, traceFields, tracingEnabled } from './tracing';

describe('tracing switched off', () => {
  it('stays off without an endpoint, or when the SDK is disabled, and costs callers nothing', async () => {
    expect(startTracing('test', {})).toBe(false);
    expect(startTracing('test', { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBe(false);
    expect(
      startTracing('test', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBe(false);
    expect(tracingEnabled()).toBe(false);
    expect(traceFields()).toEqual({});
    expect(() => nameServerSpan('GET', '/x')).not.toThrow();
    await expect(jobSpan('mail.send', {}, () => Promise.resolve(42))).resolves.toBe(42);
    await expect(jobSpan('mail.send', {}, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
