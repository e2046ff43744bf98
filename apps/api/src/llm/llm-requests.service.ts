import { AuditService } from '@app/audit';
import { auditActor, type Principal, type UserPrincipal } from '@app/auth';
import { toProblem } from '@app/common';
import { LlmJob, Organization, TenantTransaction } from '@app/database';
import { LlmChatJob } from '@app/jobs';
import { LlmAbortedError, LlmService, llmNotConfigured, OrganizationLlm } from '@app/llm';
import { Outbox } from '@app/queue';
import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { PassThrough, type Readable } from 'node:stream';
import { ChatCompletionDto, LlmJobDto, LlmUsageDto, type ChatRequestDto, type LlmJobRequestDto } from './dto/llm.dto';

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The LLM routes' use cases: synchronous and streamed chats, background jobs, usage and budgets. */
@Injectable()
export class LlmRequests {
  private readonly logger = new Logger('LlmRequests');

  constructor(
    private readonly organizationLlm: OrganizationLlm,
    private readonly llm: LlmService,
    private readonly transactions: TenantTransaction,
    private readonly outbox: Outbox,
    private readonly audit: AuditService,
  ) {}

  async chat(orgId: string, dto: ChatRequestDto, signal: AbortSignal): Promise<ChatCompletionDto> {
    const request = await this.organizationLlm.prepare(orgId, dto);
    return ChatCompletionDto.from(await this.organizationLlm.chat(orgId, request, signal));
  }

  /**
   * Starts a streamed chat. Refusals (validation, budget, a provider that fails before its first
   * token) throw, so the client gets a plain problem; after that the body is a Server-Sent Events
   * stream that ends with `done` or `error`. `abort` stops the provider call (the client left).
   */
  async stream(orgId: string, dto: ChatRequestDto, abort: AbortController): Promise<Readable> {
    const request = await this.organizationLlm.prepare(orgId, dto);
    const stream = await this.organizationLlm.stream(request, abort.signal);
    const body = new PassThrough();
    const pump = async () => {
      try {
        for await (const content of stream) body.write(sse('delta', { content }));
        const done = ChatCompletionDto.from(stream.result());
        body.write(sse('done', { model: done.model, finishReason: done.finishReason, usage: done.usage }));
      } catch (error) {
        if (!(error instanceof LlmAbortedError)) body.write(sse('error', toProblem(error, undefined).problem));
      } finally {
        // What the provider spent counts, whether the stream finished, broke or was abandoned;
        // counted before the body ends, so a client's next request already sees it.
        await this.organizationLlm.settle(orgId, stream).catch((error: unknown) => {
          this.logger.error({ err: error, organizationId: orgId }, 'LLM usage not recorded');
        });
        body.end();
      }
    };
    void pump();
    return body;
  }

  async createJob(actor: Principal, orgId: string, dto: LlmJobRequestDto): Promise<LlmJobDto> {
    // Refused now rather than queued to fail: not configured, bad model, budget spent.
    const { model, maxTokens } = this.llm.resolve(dto);
    await this.organizationLlm.prepare(orgId, dto);
    return this.transactions.run(orgId, async (manager) => {
      const job = manager.create(LlmJob, {
        organizationId: orgId,
        requestedBy: auditActor(actor).actorId,
        status: 'queued',
        model,
        messages: dto.messages.map(({ role, content }) => ({ role, content })),
        maxTokens,
        temperature: dto.temperature ?? null,
        result: null,
        finishReason: null,
        promptTokens: null,
        completionTokens: null,
        error: null,
        attempts: 0,
        completedAt: null,
      });
      await manager.save(job);
      await this.outbox.add(
        manager,
        LlmChatJob,
        { llmJobId: job.id, organizationId: orgId },
        { organizationId: orgId },
      );
      return LlmJobDto.from(job);
    });
  }

  /** Only whoever asked (the user, or the API key) sees a job: prompts are theirs. */
  async getJob(actor: Principal, orgId: string, jobId: string): Promise<LlmJobDto> {
    const job = await this.transactions.run(orgId, (manager) =>
      manager.findOne(LlmJob, { where: { id: jobId, requestedBy: auditActor(actor).actorId } }),
    );
    if (!job) throw new NotFoundException('No LLM job with this id.');
    return LlmJobDto.from(job);
  }

  async usage(orgId: string): Promise<LlmUsageDto> {
    if (!this.llm.enabled) throw llmNotConfigured();
    return LlmUsageDto.from(await this.organizationLlm.usage(orgId), this.llm.models);
  }

  async setBudget(admin: UserPrincipal, orgId: string, monthlyTokens: number | null): Promise<LlmUsageDto> {
    const report = await this.transactions.run(orgId, async (manager) => {
      const organization = await manager.findOne(Organization, { where: { id: orgId }, select: { id: true } });
      if (!organization) throw new NotFoundException('No such organization.');
      await manager.update(Organization, { id: orgId }, { llmMonthlyTokenBudget: monthlyTokens });
      await this.audit.record(
        {
          action: 'llm.budget.update',
          outcome: 'success',
          actorId: admin.userId,
          organizationId: orgId,
          targetType: 'organization',
          targetId: orgId,
          metadata: { monthlyBudget: monthlyTokens },
        },
        manager,
      );
      return this.organizationLlm.usage(orgId, manager);
    });
    return LlmUsageDto.from(report, this.llm.models);
  }
}
