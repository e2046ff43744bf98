export { jobSpan, nameServerSpan, startTracing, stopTracing, traceFields, tracingEnabled, untraced } from './tracing';
export { adoptTracingSettingsFromEnvFile } from './env-file';
