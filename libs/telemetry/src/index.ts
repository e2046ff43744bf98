export { jobSpan, nameServerSpan, startTracing, stopTracing, traceFields, tracingEnabled } from './tracing';
