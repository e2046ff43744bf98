export { jobSpan, nameServerSpan, startTracing, stopTracing, traceFields, tracingEnabled, untraced } from './tracing';
