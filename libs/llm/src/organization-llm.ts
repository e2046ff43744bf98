import { AppConfig } from '@app/config';
import { ProblemException } from '@app/common';
import { LlmUsage, Organization, TenantTransaction } from '@app/database';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { LlmAbortedError, llmNotConfigured } from './llm-problems';
import {
  ChatStream,
  estimatePromptTokens,
  LlmService,
  type ChatRequest,
  type ChatResult,
  type ResolvedChatRequest,
  type TokenUsage,
} from './llm.service';

export interface LlmUsageReport {
  /** First day of the month counted, UTC (YYYY-MM-DD). */
  period: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Tokens allowed this month; null: no limit. */
  budget: number | null;
  /** Tokens left this month; null: no limit. */
  remaining: number | null;
  /** When the month's count starts again. */
  resetsAt: Date;
}

/** The first day of the month of `now`, UTC, as a date. */
export function usagePeriod(now = new Date()): string {
  return `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}-01`;
}

function nextPeriodStart(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

/**
 * LLM calls on behalf of one organization: refused with 429 once its monthly token budget is spent,
 * completion tokens capped to what is left, and every call's tokens added to its month.
 * Neither check nor count holds a database connection while the provider is working.
 *
 * The budget is checked before a call and counted after it, so calls running when it runs out can
 * overshoot it by what they use (at most their completion ceiling each, plus their prompts).
 */
@Injectable()
export class OrganizationLlm {
  constructor(
    private readonly llm: LlmService,
    private readonly transactions: TenantTransaction,
    private readonly config: AppConfig,
  ) {}

  /** Model and token ceiling settled, within the budget; throws 400/429/503 problems. */
  async prepare(organizationId: string, request: ChatRequest): Promise<ResolvedChatRequest> {
    // The same answer whatever the body says when the feature is off.
    if (!this.llm.enabled) throw llmNotConfigured();
    const resolved = this.llm.resolve(request);
    const usage = await this.usage(organizationId);
    if (usage.remaining !== null) {
      // What is left must cover the prompt (estimated, generously) and at least one token of answer.
      const left = usage.remaining - estimatePromptTokens(resolved.messages);
      if (left <= 0) throw budgetSpent(usage);
      resolved.maxTokens = Math.min(resolved.maxTokens, left);
    }
    return resolved;
  }

  async chat(organizationId: string, request: ResolvedChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    let result: ChatResult;
    try {
      result = await this.llm.chat(request, signal);
    } catch (error) {
      // The client left mid-call: the provider has read the prompt at least.
      if (error instanceof LlmAbortedError) {
        await this.record(organizationId, {
          promptTokens: estimatePromptTokens(request.messages),
          completionTokens: 0,
        });
      }
      throw error;
    }
    await this.record(organizationId, result.usage);
    return result;
  }

  /** Starts a stream; its tokens are counted when it ends, breaks off or is abandoned (call `settle`). */
  stream(request: ResolvedChatRequest, signal?: AbortSignal): Promise<ChatStream> {
    return this.llm.stream(request, signal);
  }

  /** Counts a finished (or broken-off) stream's tokens. */
  settle(organizationId: string, stream: ChatStream): Promise<void> {
    return this.record(organizationId, stream.result().usage);
  }

  async usage(organizationId: string, manager?: EntityManager): Promise<LlmUsageReport> {
    const read = async (em: EntityManager): Promise<LlmUsageReport> => {
      const period = usagePeriod();
      const [organization, row] = await Promise.all([
        em.findOne(Organization, { where: { id: organizationId }, select: { id: true, llmMonthlyTokenBudget: true } }),
        em.findOne(LlmUsage, { where: { organizationId, period } }),
      ]);
      const budget = organization?.llmMonthlyTokenBudget ?? this.config.llm.monthlyTokenBudget ?? null;
      const promptTokens = row?.promptTokens ?? 0;
      const completionTokens = row?.completionTokens ?? 0;
      const totalTokens = promptTokens + completionTokens;
      return {
        period,
        requests: row?.requests ?? 0,
        promptTokens,
        completionTokens,
        totalTokens,
        budget,
        remaining: budget === null ? null : Math.max(0, budget - totalTokens),
        resetsAt: nextPeriodStart(),
      };
    };
    return manager ? read(manager) : this.transactions.run(organizationId, read);
  }

  /** Adds one call's tokens to the organization's month (in the caller's unit of work when there is one). */
  record(organizationId: string, usage: TokenUsage, manager?: EntityManager): Promise<void> {
    const write = async (em: EntityManager): Promise<void> => {
      await em.query(
        `INSERT INTO llm_usage (organization_id, period, requests, prompt_tokens, completion_tokens)
         VALUES ($1, $2, 1, $3, $4)
         ON CONFLICT (organization_id, period) DO UPDATE
           SET requests = llm_usage.requests + 1,
               prompt_tokens = llm_usage.prompt_tokens + EXCLUDED.prompt_tokens,
               completion_tokens = llm_usage.completion_tokens + EXCLUDED.completion_tokens`,
        [organizationId, usagePeriod(), usage.promptTokens, usage.completionTokens],
      );
    };
    return manager ? write(manager) : this.transactions.run(organizationId, write);
  }
}

function budgetSpent(usage: LlmUsageReport): ProblemException {
  const seconds = Math.max(1, Math.ceil((usage.resetsAt.getTime() - Date.now()) / 1000));
  return new ProblemException({
    status: 429,
    slug: 'llm-budget-exhausted',
    title: 'Token budget spent',
    detail: `This organization has used its ${usage.budget ?? 0} LLM tokens for this month.`,
    extensions: { budget: usage.budget, used: usage.totalTokens, resetsAt: usage.resetsAt.toISOString() },
    headers: { 'retry-after': String(seconds) },
  });
}
