import { CurrentPrincipal, type Principal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePermissions, TeamScoped } from '@app/rbac';
import { Body, Controller, Get, HttpCode, HttpStatus, Post, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { ChatCompletionDto, ChatRequestDto, LlmJobDto, LlmJobRequestDto, LlmUsageDto } from './dto/llm.dto';
import { LlmRequests } from './llm-requests.service';

const PROVIDER_ERRORS =
  'Provider failures are problems of their own: 502 (unreachable or failed), 503 with Retry-After (it is ' +
  'rate limiting us, or no provider is configured), 504 (timed out), 422 (it refused the messages). ' +
  'A spent monthly token budget is 429 `llm-budget-exhausted` with Retry-After.';

/** Aborts the provider call when the client goes away before the answer is complete. */
function abortOnDisconnect(reply: FastifyReply): AbortController {
  const abort = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  return abort;
}

/** Chat completions for an organization's members and API keys (permission llm:use, held anywhere in it). */
@ApiTags('llm')
@TeamScoped()
@Controller('organizations/:orgId/llm')
export class LlmController {
  constructor(private readonly requests: LlmRequests) {}

  @Post('chat')
  @HttpCode(HttpStatus.OK)
  @RequirePermissions('llm:use')
  @ApiOperation({
    summary: 'Chat completion',
    description:
      'Needs llm:use (organization-wide or in any team). `stream: true` answers `text/event-stream`: ' +
      '`delta` events (`{"content": "..."}`), then `done` (`{model, finishReason, usage}`) or `error` (a problem). ' +
      PROVIDER_ERRORS,
  })
  @ApiExtraModels(ChatCompletionDto)
  @ApiOkResponse({
    description: 'The answer (JSON), or its Server-Sent Events stream when `stream` is true.',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(ChatCompletionDto) } },
      'text/event-stream': { schema: { type: 'string', example: 'event: delta\ndata: {"content":"Hello"}\n\n' } },
    },
  })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 422, 502, 503, 504)
  async chat(
    @UuidParam('orgId') orgId: string,
    @Body() dto: ChatRequestDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ChatCompletionDto | Readable> {
    const abort = abortOnDisconnect(reply);
    if (!dto.stream) return this.requests.chat(orgId, dto, abort.signal);
    const body = await this.requests.stream(orgId, dto, abort);
    void reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-store, no-transform')
      // Proxies (nginx) would otherwise hold the events back.
      .header('x-accel-buffering', 'no');
    return body;
  }

  @Post('jobs')
  @HttpCode(HttpStatus.ACCEPTED)
  @RequirePermissions('llm:use')
  @ApiOperation({
    summary: 'Queue a chat completion',
    description:
      'Needs llm:use. For long work: answers 202 at once; poll `GET …/llm/jobs/{llmJobId}`. A provider that is down, ' +
      'slow or busy is tried again; a refusal ends the job `failed` with the problem in `error`.',
  })
  @ApiAcceptedResponse({ type: LlmJobDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 503)
  createJob(
    @CurrentPrincipal() p: Principal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: LlmJobRequestDto,
  ): Promise<LlmJobDto> {
    return this.requests.createJob(p, orgId, dto);
  }

  @Get('jobs/:llmJobId')
  @RequirePermissions('llm:use')
  @ApiOperation({
    summary: 'A queued chat completion',
    description: 'Needs llm:use; only whoever queued it (that user, or that API key) can read it.',
  })
  @ApiOkResponse({ type: LlmJobDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  getJob(
    @CurrentPrincipal() p: Principal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('llmJobId') llmJobId: string,
  ): Promise<LlmJobDto> {
    return this.requests.getJob(p, orgId, llmJobId);
  }

  @Get('usage')
  @RequirePermissions('llm:use')
  @ApiOperation({
    summary: 'Tokens used this month',
    description: 'Needs llm:use. The month’s counts, the budget and what is left, and the models on offer.',
  })
  @ApiOkResponse({ type: LlmUsageDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 503)
  usage(@UuidParam('orgId') orgId: string): Promise<LlmUsageDto> {
    return this.requests.usage(orgId);
  }
}
