import { defineJob } from '@app/queue';

export interface LlmChatPayload {
  llmJobId: string;
  organizationId: string;
}

/** A chat completion asked for through `POST …/llm/jobs`; the request and the answer live in `llm_jobs`. */
export const LlmChatJob = defineJob<LlmChatPayload>('llm.chat', { attempts: 3, backoffMs: 5_000 });
