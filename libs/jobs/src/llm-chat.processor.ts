import { ProblemException, problemType } from '@app/common';
import { LlmJob, TenantTransaction, type LlmJobProblem } from '@app/database';
import { isTransient, LlmService, OrganizationLlm } from '@app/llm';
import { JobProcessor, type JobContext, type JobHandler } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { LlmChatJob, type LlmChatPayload } from './llm-chat.job';

/** What a failed job shows its requester: the problem a synchronous call would have answered. */
function problemOf(error: unknown): LlmJobProblem {
  if (error instanceof ProblemException) {
    const { status, slug, title, detail } = error.problem;
    return { type: problemType(slug), title, status, detail };
  }
  return { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'The job failed unexpectedly.' };
}

/**
 * Runs a queued chat completion: the budget is checked when it runs, the answer and the tokens are
 * stored in one transaction. A provider that is down, slow or busy is tried again (the job's
 * attempts); a refusal (budget, rejected messages) ends the job as failed, with the problem.
 * A job already finished is left alone, so a repeated delivery changes nothing.
 */
@Injectable()
@JobProcessor(LlmChatJob)
export class LlmChatProcessor implements JobHandler<LlmChatPayload> {
  private readonly logger = new Logger('LlmChat');

  constructor(
    private readonly transactions: TenantTransaction,
    private readonly organizationLlm: OrganizationLlm,
    private readonly llm: LlmService,
  ) {}

  async handle({ llmJobId, organizationId }: LlmChatPayload, context: JobContext): Promise<void> {
    const job = await this.transactions.run(organizationId, async (manager) => {
      const row = await manager.findOne(LlmJob, { where: { id: llmJobId } });
      // Done already: a repeated delivery changes nothing. A job that failed unexpectedly (500) may
      // be run again from the dead letters.
      if (!row || row.status === 'succeeded' || (row.status === 'failed' && row.error?.status !== 500)) {
        return undefined;
      }
      await manager.update(LlmJob, { id: llmJobId }, { status: 'running', attempts: context.attempt });
      return row;
    });
    if (!job) return;
    try {
      const request = await this.organizationLlm.prepare(organizationId, {
        messages: job.messages,
        model: job.model,
        maxTokens: job.maxTokens,
        temperature: job.temperature,
      });
      const result = await this.llm.chat(request);
      await this.transactions.run(organizationId, async (manager) => {
        await this.organizationLlm.record(organizationId, result.usage, manager);
        await manager.update(
          LlmJob,
          { id: llmJobId },
          {
            status: 'succeeded',
            result: result.content,
            finishReason: result.finishReason,
            promptTokens: result.usage.promptTokens,
            completionTokens: result.usage.completionTokens,
            error: null,
            completedAt: new Date(),
          },
        );
      });
    } catch (error) {
      const retry = isTransient(error) && context.attempt < LlmChatJob.attempts;
      // Unexpected failures (not a problem of the provider's or the budget's) go on to BullMQ's
      // retries and then the dead letters, where operators look; the row says so meanwhile.
      await this.transactions.run(organizationId, (manager) =>
        manager.update(
          LlmJob,
          { id: llmJobId },
          retry
            ? { status: 'queued', error: problemOf(error) }
            : { status: 'failed', error: problemOf(error), completedAt: new Date() },
        ),
      );
      if (retry) throw error;
      this.logger.warn({ llmJobId, organizationId, attempt: context.attempt }, 'LLM job failed');
      if (!(error instanceof ProblemException)) throw error;
    }
  }
}
