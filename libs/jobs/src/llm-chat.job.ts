import { defineJob } from '@app/queue';

export interface LlmChatPayload {
  llmJobId: string;
  organizationId: string;
}

/**
 * A chat completion asked for through `POST …/llm/jobs`; the request and the answer live in `llm_jobs`.
 * Its own queue: calls that take a minute must not hold up mail (WORKER_QUEUE_CONCURRENCY sizes it).
 */
export const LlmChatJob = defineJob<LlmChatPayload>('llm.chat', { queue: 'llm', attempts: 3, backoffMs: 5_000 });
