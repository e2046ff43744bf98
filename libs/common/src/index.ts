export { newId, isUuid } from './ids';
export { AppLogger, createAccessLogger, createAppLogger, createRootLogger, REDACTED_PATHS } from './logger';
export {
  PROBLEM_CONTENT_TYPE,
  ProblemException,
  ValidationProblemException,
  problemType,
  type FieldError,
  type ProblemDetails,
} from './problem-details';
export { toProblem, type MappedProblem } from './problem-mapper';
export {
  loggableError,
  ProblemDetailsFilter,
  type ProblemFormat,
  sendProblem,
  type ProblemRenderer,
  sentProblem,
  type SentProblem,
} from './problem-details.filter';
export { createValidationPipe, flattenValidationErrors } from './validation';
export { UuidParam } from './uuid-param';
export {
  cleanDisplayName,
  isUniqueViolation,
  NO_CONTROL_CHARACTERS,
  slugify,
  SLUG_PATTERN,
  spoofingCharacter,
} from './text';
export { Metrics, MetricsModule } from './metrics';
export {
  fetchOutbound,
  guardedFetch,
  isAllowedTarget,
  isPrivateAddress,
  OutboundRefused,
  requestOutbound,
  type OutboundFetchOptions,
  type OutboundRequest,
  type OutboundResponse,
} from './outbound-fetch';
export { RequestContextModule } from './request-context.module';
export { routeMetadata } from './route-metadata';
export { callKind, graphqlCall, graphqlFieldName, requestOf, routeUrlOf, type GraphqlCall } from './call-site';
export { IMPERSONATOR_KEY } from './impersonation';
export { processShared } from './process-shared';
