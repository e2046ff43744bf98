export { LlmModule } from './llm.module';
export {
  ChatStream,
  LlmService,
  estimatePromptTokens,
  estimateTokens,
  type ChatRequest,
  type ChatResult,
  type ResolvedChatRequest,
  type TokenUsage,
} from './llm.service';
export { OrganizationLlm, usagePeriod, type LlmUsageReport } from './organization-llm';
export { LlmAbortedError, isTransient, llmNotConfigured, providerProblem } from './llm-problems';
