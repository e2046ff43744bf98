import { AppConfig } from '@app/config';
import { Metrics, ProblemException, ValidationProblemException } from '@app/common';
import type { LlmChatMessage } from '@app/database';
import { Injectable, Logger } from '@nestjs/common';
import type OpenAI from 'openai';
import { APIError } from 'openai/core/error';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { Counter, Histogram } from 'prom-client';
import { LlmAbortedError, llmNotConfigured, providerProblem } from './llm-problems';

export interface ChatRequest {
  messages: LlmChatMessage[];
  /** A model from the configured list; the default model when absent. */
  model?: string;
  /** Ceiling on completion tokens; LLM_MAX_TOKENS when absent. */
  maxTokens?: number;
  temperature?: number | null;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface ChatResult {
  content: string;
  model: string;
  finishReason: string | null;
  usage: TokenUsage;
  /** True when the provider reported no usage and the counts are estimates (about 4 characters a token). */
  usageEstimated: boolean;
}

/** A chat request with its model and token ceiling settled (checked against the configuration). */
export interface ResolvedChatRequest {
  messages: LlmChatMessage[];
  model: string;
  maxTokens: number;
  temperature: number | null;
}

/**
 * The global fetch, with its failures re-made as this realm's Errors. The client library tells a
 * timeout from other failures by the error's name, and loses the name of an error that is not an
 * `instanceof Error` here, which is what fetch's DOMException is when the code runs in a vm
 * context (jest does that).
 */
const fetchInThisRealm: typeof fetch = (input, init) =>
  fetch(input, init).catch((error: unknown) => {
    if (error instanceof Error || typeof error !== 'object' || error === null) throw error;
    const { name, message } = error as { name?: unknown; message?: unknown };
    throw Object.assign(new Error(typeof message === 'string' ? message : 'fetch failed', { cause: error }), {
      name: typeof name === 'string' ? name : 'Error',
    });
  });

/**
 * Token count for providers that report none, on the generous side: a token per three bytes of
 * UTF-8 (English runs about four characters a token, Chinese or Japanese about one).
 */
export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 3);
}

/** The estimate for a whole prompt. */
export function estimatePromptTokens(messages: LlmChatMessage[]): number {
  return estimateTokens(promptText(messages));
}

function promptText(messages: LlmChatMessage[]): string {
  return messages.map((message) => message.content).join('\n');
}

/**
 * The LLM provider behind one seam: OpenAI or anything that speaks its HTTP API, through the
 * official `openai` client (its retries on 429/5xx with backoff, honouring Retry-After; its
 * timeout). Errors come out as our own problems (see llm-problems.ts), never the provider's body.
 * No tenant here: budgets and usage are OrganizationLlm's.
 */
@Injectable()
export class LlmService {
  private readonly logger = new Logger('LlmService');
  /**
   * The provider's client, made on the first call: the `openai` package is about 150 modules, which
   * a process that never calls the provider (most requests, the worker, every api without LLM_*)
   * does not load.
   */
  private client: Promise<OpenAI> | undefined;
  private readonly requests: Counter<'model' | 'outcome'>;
  private readonly tokens: Counter<'model' | 'kind'>;
  private readonly duration: Histogram<'model'>;

  constructor(
    private readonly config: AppConfig,
    metrics: Metrics,
  ) {
    this.requests = new Counter({
      name: 'llm_requests_total',
      help: 'LLM provider calls by model and outcome (success, or the problem type).',
      labelNames: ['model', 'outcome'],
      registers: [metrics.registry],
    });
    this.tokens = new Counter({
      name: 'llm_tokens_total',
      help: 'Tokens used by model and kind (prompt, completion).',
      labelNames: ['model', 'kind'],
      registers: [metrics.registry],
    });
    this.duration = new Histogram({
      name: 'llm_request_duration_seconds',
      help: 'LLM provider call duration (to the last token when streaming).',
      labelNames: ['model'],
      buckets: [0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [metrics.registry],
    });
  }

  get enabled(): boolean {
    return this.config.llm.enabled;
  }

  get models(): readonly string[] {
    return this.config.llm.models;
  }

  /** Settles model and token ceiling; 400 for a model outside the list or a ceiling above LLM_MAX_TOKENS. */
  resolve(request: ChatRequest): ResolvedChatRequest {
    const { models, defaultModel, maxTokens } = this.config.llm;
    const model = request.model ?? defaultModel;
    const errors = [];
    if (!models.includes(model)) errors.push({ field: 'model', message: `must be one of: ${models.join(', ')}` });
    if (request.maxTokens !== undefined && request.maxTokens > maxTokens) {
      errors.push({ field: 'maxTokens', message: `must not exceed ${maxTokens}` });
    }
    if (errors.length > 0) throw new ValidationProblemException(errors);
    return {
      messages: request.messages,
      model,
      maxTokens: request.maxTokens ?? maxTokens,
      temperature: request.temperature ?? null,
    };
  }

  /** One completion, whole. */
  async chat(request: ResolvedChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const client = await this.require();
    const stopTimer = this.duration.startTimer({ model: request.model });
    try {
      const completion = await client.chat.completions.create(
        {
          model: request.model,
          messages: request.messages,
          max_tokens: request.maxTokens,
          ...(request.temperature === null ? {} : { temperature: request.temperature }),
        },
        { signal },
      );
      const choice = completion.choices?.[0];
      if (!choice) throw new Error('completion without choices');
      const content = choice.message?.content ?? '';
      const reported = completion.usage;
      const result: ChatResult = {
        content,
        model: completion.model || request.model,
        finishReason: choice.finish_reason ?? null,
        usage: reported
          ? { promptTokens: reported.prompt_tokens, completionTokens: reported.completion_tokens }
          : { promptTokens: estimateTokens(promptText(request.messages)), completionTokens: estimateTokens(content) },
        usageEstimated: !reported,
      };
      this.count(request.model, 'success', result.usage);
      return result;
    } catch (error) {
      throw this.fail(request.model, error);
    } finally {
      stopTimer();
    }
  }

  /**
   * A streamed completion. Resolves once the provider has accepted the request (so a refusal is a
   * plain error, before any byte went to the client); iterate for the text as it comes.
   */
  async stream(request: ResolvedChatRequest, signal?: AbortSignal): Promise<ChatStream> {
    const client = await this.require();
    const stopTimer = this.duration.startTimer({ model: request.model });
    try {
      const upstream = await client.chat.completions.create(
        {
          model: request.model,
          messages: request.messages,
          max_tokens: request.maxTokens,
          stream: true,
          stream_options: { include_usage: true },
          ...(request.temperature === null ? {} : { temperature: request.temperature }),
        },
        { signal },
      );
      return new ChatStream(upstream, request, signal, {
        done: (result) => {
          stopTimer();
          this.count(request.model, 'success', result.usage);
        },
        failed: (error, partial) => {
          stopTimer();
          const mapped = this.fail(request.model, error);
          // Tokens the provider spent on a broken or abandoned stream still count.
          this.count(request.model, undefined, partial.usage);
          return mapped;
        },
      });
    } catch (error) {
      stopTimer();
      throw this.fail(request.model, error);
    }
  }

  private require(): Promise<OpenAI> {
    const llm = this.config.llm;
    if (!llm.enabled) return Promise.reject(llmNotConfigured());
    this.client ??= import('openai').then(
      ({ default: Client }) =>
        new Client({
          baseURL: llm.baseUrl,
          apiKey: llm.apiKey,
          timeout: llm.timeoutMs,
          maxRetries: llm.maxRetries,
          fetch: fetchInThisRealm,
        }),
    );
    return this.client;
  }

  private count(model: string, outcome: string | undefined, usage: TokenUsage): void {
    if (outcome) this.requests.inc({ model, outcome });
    this.tokens.inc({ model, kind: 'prompt' }, usage.promptTokens);
    this.tokens.inc({ model, kind: 'completion' }, usage.completionTokens);
  }

  private fail(model: string, error: unknown): Error {
    const mapped = providerProblem(error, this.config.llm.timeoutMs);
    if (mapped instanceof LlmAbortedError) {
      this.requests.inc({ model, outcome: 'aborted' });
      return mapped;
    }
    const slug = mapped instanceof ProblemException ? mapped.problem.slug : 'error';
    this.requests.inc({ model, outcome: slug });
    const status = error instanceof APIError ? (error as APIError<number | undefined>).status : undefined;
    this.logger.warn({ model, outcome: slug, providerStatus: status }, 'LLM call failed');
    return mapped;
  }
}

interface StreamHooks {
  done(result: ChatResult): void;
  failed(error: unknown, partial: ChatResult): Error;
}

/** The text of a streamed completion, delta by delta; `result()` once it has ended (or broken off). */
export class ChatStream implements AsyncIterable<string> {
  private content = '';
  private reported: TokenUsage | undefined;
  private finishReason: string | null = null;
  private model: string;

  constructor(
    private readonly upstream: AsyncIterable<ChatCompletionChunk>,
    private readonly request: ResolvedChatRequest,
    private readonly signal: AbortSignal | undefined,
    private readonly hooks: StreamHooks,
  ) {
    this.model = request.model;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    let settled = false;
    try {
      for await (const chunk of this.upstream) {
        if (chunk.model) this.model = chunk.model;
        if (chunk.usage) {
          this.reported = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
        }
        const choice = chunk.choices?.[0];
        if (choice?.finish_reason) this.finishReason = choice.finish_reason;
        const delta = choice?.delta?.content;
        if (delta) {
          this.content += delta;
          yield delta;
        }
      }
      // The client library ends an aborted stream quietly: that is no finished answer.
      if (this.signal?.aborted) throw new LlmAbortedError();
      settled = true;
      this.hooks.done(this.result());
    } catch (error) {
      settled = true;
      throw this.hooks.failed(error, this.result());
    } finally {
      // The reader stopped early (its client went away): still settle the metrics and timer.
      if (!settled) this.hooks.failed(new LlmAbortedError(), this.result());
    }
  }

  /** What has arrived so far, with the provider's token counts (estimated when it sent none). */
  result(): ChatResult {
    return {
      content: this.content,
      model: this.model,
      finishReason: this.finishReason,
      usage: this.reported ?? {
        promptTokens: estimateTokens(promptText(this.request.messages)),
        completionTokens: estimateTokens(this.content),
      },
      usageEstimated: !this.reported,
    };
  }
}
