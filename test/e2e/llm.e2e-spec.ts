import { LlmJob, TenantTransaction } from '@app/database';
import { LlmChatJob, LlmChatProcessor } from '@app/jobs';
import { JobQueue, OutboxRelay, type InProcessJobQueue } from '@app/queue';
import { SYSTEM_ROLES } from '@app/rbac';
import {
  bearer,
  createTestApp,
  joinByInvitation,
  registerAndLogin,
  setPlatformAdmin,
  startOpenAiStandIn,
  type OpenAiStandIn,
  type TestApp,
} from '@app/testing';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
interface Problem {
  type: string;
  status: number;
  detail?: string;
  errors?: Array<{ field: string; message: string }>;
  [key: string]: unknown;
}
interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

const hello = { messages: [{ role: 'user', content: 'hello there' }] };

function events(body: string): SseEvent[] {
  return body
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '{}';
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}

describe('LLM provider (OpenAI wire format on loopback)', () => {
  let t: TestApp;
  let provider: OpenAiStandIn;
  let owner: Account;
  let viewer: Account;
  let member: Account;
  let admin: Account;
  let other: Account;
  let orgId: string;
  let otherOrgId: string;

  const call = (
    as: Account | { key: string } | undefined,
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    payload?: object,
  ) =>
    t.inject({
      method,
      url: `/api/v1${url}`,
      headers: as ? ('key' in as ? { 'x-api-key': as.key } : bearer(as.tokens.access_token)) : {},
      payload,
    });
  const chat = (as: Account | { key: string }, payload: object, org = orgId) =>
    call(as, 'POST', `/organizations/${org}/llm/chat`, payload);
  const usage = async (org = orgId) =>
    (await call(owner, 'GET', `/organizations/${org}/llm/usage`)).json<{
      requests: number;
      promptTokens: number;
      completionTokens: number;
      totalTokens: number;
      budget: number | null;
      remaining: number | null;
      models: string[];
    }>();
  const setBudget = (monthlyTokens: number | null, as = admin, org = orgId) =>
    call(as, 'PUT', `/admin/organizations/${org}/llm-budget`, { monthlyTokens });

  beforeAll(async () => {
    provider = await startOpenAiStandIn();
    t = await createTestApp({
      env: {
        OPENAI_BASE_URL: provider.url,
        OPENAI_API_KEY: 'sk-test-0123456789',
        OPENAI_MODEL: 'small-model',
        LLM_MODELS: 'big-model',
        LLM_MAX_TOKENS: '50',
        LLM_MAX_RETRIES: '1',
        LLM_TIMEOUT_MS: '400',
      },
    });
    owner = await registerAndLogin(t, 'llm-owner');
    orgId = (await call(owner, 'POST', '/organizations', { name: 'LLM org' })).json<{ id: string }>().id;
    const join = async (label: string, roleId: string) => {
      const account = await registerAndLogin(t, label);
      await joinByInvitation(t, owner, orgId, account, [roleId]);
      return account;
    };
    viewer = await join('llm-viewer', SYSTEM_ROLES.viewer.id);
    member = await join('llm-member', SYSTEM_ROLES.member.id);
    other = await registerAndLogin(t, 'llm-other');
    otherOrgId = (await call(other, 'POST', '/organizations', { name: 'Other org' })).json<{ id: string }>().id;
    admin = await registerAndLogin(t, 'llm-admin');
    await setPlatformAdmin(t, admin.userId);
  });
  afterAll(async () => {
    await t.close();
    await provider.close();
  });
  beforeEach(() => {
    provider.omitUsage = false;
  });

  describe('chat', () => {
    it('answers with the provider’s completion and counts its tokens for the organization', async () => {
      const before = await usage();
      const res = await chat(member, {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hello there' },
        ],
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        model: 'small-model',
        message: { role: 'assistant', content: 'echo: hello there' },
        finishReason: 'stop',
        usage: { promptTokens: 4, completionTokens: 3, totalTokens: 7, estimated: false },
      });
      const sent = provider.requests.at(-1);
      expect(sent?.authorization).toBe('Bearer sk-test-0123456789');
      expect(sent?.body).toMatchObject({ model: 'small-model', max_tokens: 50 });
      const after = await usage();
      expect(after.requests - before.requests).toBe(1);
      expect(after.totalTokens - before.totalTokens).toBe(7);
      expect(after.models).toEqual(['small-model', 'big-model']);
      // Another organization's month is its own.
      expect((await call(other, 'GET', `/organizations/${otherOrgId}/llm/usage`)).json()).toMatchObject({
        requests: 0,
        totalTokens: 0,
      });
    });

    it('passes a listed model, the token ceiling and the temperature on; the ceiling cuts the answer', async () => {
      const res = await chat(owner, {
        messages: [{ role: 'user', content: 'one two three four five' }],
        model: 'big-model',
        maxTokens: 3,
        temperature: 0.2,
      });
      expect(res.json()).toMatchObject({
        model: 'big-model',
        message: { content: 'echo: one two' },
        finishReason: 'length',
      });
      expect(provider.requests.at(-1)?.body).toMatchObject({ model: 'big-model', max_tokens: 3, temperature: 0.2 });
    });

    it('estimates tokens when the provider reports none', async () => {
      provider.omitUsage = true;
      const res = await chat(owner, hello);
      expect(res.json<{ usage: { estimated: boolean; completionTokens: number } }>().usage).toMatchObject({
        estimated: true,
        completionTokens: Math.ceil(Buffer.byteLength('echo: hello there') / 3),
      });
    });

    it.each([
      [{}, 'messages'],
      [{ messages: [] }, 'messages'],
      [{ messages: [{ role: 'robot', content: 'hi' }] }, 'messages.0.role'],
      [{ messages: [{ role: 'user', content: '' }] }, 'messages.0.content'],
      [{ messages: [{ role: 'user', content: 42 }] }, 'messages.0.content'],
      [{ messages: 'hello' }, 'messages'],
      [{ ...hello, model: 'gpt-unlisted' }, 'model'],
      [{ ...hello, maxTokens: 51 }, 'maxTokens'],
      [{ ...hello, maxTokens: 0 }, 'maxTokens'],
      [{ ...hello, temperature: 3 }, 'temperature'],
      [{ ...hello, stream: 'yes' }, 'stream'],
      [{ ...hello, tools: [] }, 'tools'],
    ])('refuses %j with a problem naming %s, without calling the provider', async (payload, field) => {
      const calls = provider.requests.length;
      const res = await chat(owner, payload);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json<Problem>().errors?.map((error) => error.field)).toContain(field);
      expect(provider.requests.length).toBe(calls);
    });
  });

  describe('who may call it', () => {
    it('needs llm:use: a viewer is refused, a member and a key with llm:use are served, others see nothing', async () => {
      expect((await chat(viewer, hello)).statusCode).toBe(403);
      expect((await chat(other, hello)).statusCode).toBe(404);
      expect((await chat(owner, hello, otherOrgId)).statusCode).toBe(404);
      expect((await call(undefined, 'POST', `/organizations/${orgId}/llm/chat`, hello)).statusCode).toBe(401);
      const withLlm = await call(owner, 'POST', `/organizations/${orgId}/api-keys`, {
        name: 'bot',
        permissions: ['llm:use'],
      });
      const without = await call(owner, 'POST', `/organizations/${orgId}/api-keys`, {
        name: 'reader',
        permissions: ['teams:read'],
      });
      expect((await chat({ key: withLlm.json<{ key: string }>().key }, hello)).statusCode).toBe(200);
      expect((await chat({ key: without.json<{ key: string }>().key }, hello)).statusCode).toBe(403);
    });
  });

  describe('streaming', () => {
    it('sends the text as Server-Sent Events, then the usage, and counts it', async () => {
      const before = await usage();
      const res = await chat(member, { ...hello, stream: true });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store, no-transform');
      const received = events(res.body);
      const deltas = received.filter((event) => event.event === 'delta').map((event) => event.data.content);
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join('')).toBe('echo: hello there');
      expect(received.at(-1)).toEqual({
        event: 'done',
        data: {
          model: 'small-model',
          finishReason: 'stop',
          usage: { promptTokens: 2, completionTokens: 3, totalTokens: 5, estimated: false },
        },
      });
      expect(provider.requests.at(-1)?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
      const after = await usage();
      expect(after.totalTokens - before.totalTokens).toBe(5);
    });

    it('ends with an error event when the provider breaks off, and still counts what arrived', async () => {
      const before = await usage();
      provider.script({ kind: 'break', chunks: 2 });
      const res = await chat(member, { messages: [{ role: 'user', content: 'a b c d e f' }], stream: true });
      expect(res.statusCode).toBe(200);
      const received = events(res.body);
      expect(received.filter((event) => event.event === 'delta').map((event) => event.data.content)).toEqual([
        'echo:',
        ' a',
      ]);
      expect(received.at(-1)).toMatchObject({ event: 'error', data: { status: 502 } });
      const after = await usage();
      expect(after.requests - before.requests).toBe(1);
      expect(after.completionTokens - before.completionTokens).toBeGreaterThan(0);
    });

    it('stops the provider’s stream when the client goes away, and counts what was spent', async () => {
      await t.app.listen(0, '127.0.0.1');
      const address = t.app.getHttpServer().address() as { port: number };
      const before = await usage();
      provider.chunkDelayMs = 40;
      const abandonedBefore = provider.abandoned;
      try {
        const client = new AbortController();
        const res = await fetch(`http://127.0.0.1:${address.port}/api/v1/organizations/${orgId}/llm/chat`, {
          method: 'POST',
          headers: { ...bearer(member.tokens.access_token), 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'a '.repeat(40) }], stream: true }),
          signal: client.signal,
        });
        const reader = res.body!.getReader();
        const first = await reader.read();
        expect(new TextDecoder().decode(first.value as Uint8Array)).toContain('event: delta');
        client.abort();
        await reader.cancel().catch(() => undefined);
        // The api aborts its provider call: the stand-in sees its client go mid-stream.
        for (let i = 0; i < 100 && provider.abandoned === abandonedBefore; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(provider.abandoned).toBe(abandonedBefore + 1);
        let after = await usage();
        for (let i = 0; i < 100 && after.requests === before.requests; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          after = await usage();
        }
        expect(after.requests - before.requests).toBe(1);
        expect(after.promptTokens - before.promptTokens).toBeGreaterThan(0);
      } finally {
        provider.chunkDelayMs = 0;
        (t.app.getHttpServer() as { closeAllConnections(): void }).closeAllConnections();
      }
    });

    it('answers a refusal before the first token as a plain problem', async () => {
      provider.script(
        { kind: 'status', status: 500, headers: { 'retry-after-ms': '1' } },
        { kind: 'status', status: 500, headers: { 'retry-after-ms': '1' } },
      );
      const res = await chat(member, { ...hello, stream: true });
      expect(res.statusCode).toBe(502);
      expect(res.headers['content-type']).toContain('application/problem+json');
    });
  });

  describe('provider failures', () => {
    const secret = 'Incorrect API key provided: sk-test-***6789, org-internal-4711';

    it('retries a 5xx once, then answers 502 without the provider’s words', async () => {
      const calls = provider.requests.length;
      provider.script(
        { kind: 'status', status: 503, body: { error: { message: secret } }, headers: { 'retry-after-ms': '1' } },
        { kind: 'status', status: 500, body: { error: { message: secret } }, headers: { 'retry-after-ms': '1' } },
      );
      const res = await chat(owner, hello);
      expect(res.statusCode).toBe(502);
      expect(res.json<Problem>()).toMatchObject({ type: '/problems/llm-provider-error', status: 502 });
      expect(res.body).not.toContain('org-internal-4711');
      expect(provider.requests.length - calls).toBe(2);
    });

    it('recovers when the retry succeeds', async () => {
      provider.script({ kind: 'status', status: 500, headers: { 'retry-after-ms': '1' } });
      const res = await chat(owner, hello);
      expect(res.statusCode).toBe(200);
    });

    it('answers 503 with Retry-After while the provider rate limits', async () => {
      const busy = { kind: 'status' as const, status: 429, headers: { 'retry-after-ms': '1' } };
      provider.script(busy, busy);
      const res = await chat(owner, hello);
      expect(res.statusCode).toBe(503);
      expect(res.json<Problem>().type).toBe('/problems/llm-busy');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('answers 504 when the provider does not answer in time', async () => {
      provider.script({ kind: 'hang' }, { kind: 'hang' });
      const res = await chat(owner, hello);
      expect(res.statusCode).toBe(504);
      expect(res.json<Problem>()).toMatchObject({ type: '/problems/llm-timeout', status: 504 });
    });

    it('answers 422 when the provider refuses the messages, with its code but not its text', async () => {
      provider.script({
        kind: 'status',
        status: 400,
        body: { error: { message: secret, type: 'invalid_request_error', code: 'context_length_exceeded' } },
      });
      const res = await chat(owner, hello);
      expect(res.statusCode).toBe(422);
      expect(res.json<Problem>()).toMatchObject({
        type: '/problems/llm-request-rejected',
        providerCode: 'context_length_exceeded',
      });
      expect(res.body).not.toContain('org-internal-4711');
    });

    it('answers 502 when the installation’s key is refused', async () => {
      provider.script({ kind: 'status', status: 401, body: { error: { message: secret } } });
      const res = await chat(owner, hello);
      expect(res.json<Problem>()).toMatchObject({ status: 502, providerStatus: 401 });
      expect(res.body).not.toContain('sk-test');
    });
  });

  describe('monthly token budget', () => {
    afterAll(async () => {
      await setBudget(null);
    });

    it('is set by platform admins only, and audited', async () => {
      expect((await setBudget(100, owner)).statusCode).toBe(403);
      expect((await setBudget(-1)).statusCode).toBe(400);
      expect((await setBudget(1.5)).statusCode).toBe(400);
      expect((await call(admin, 'PUT', `/admin/organizations/${orgId}/llm-budget`, {})).statusCode).toBe(400);
      expect((await setBudget(100, admin, '0190a0f1-0000-7000-8000-000000000000')).statusCode).toBe(404);
      const res = await setBudget(100);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ budget: 100 });
      const audit = await call(owner, 'GET', `/organizations/${orgId}/audit-logs?action=llm.budget.update`);
      expect(audit.json<{ items: Array<{ metadata: unknown }> }>().items[0]?.metadata).toEqual({
        monthlyBudget: 100,
      });
    });

    it('caps the completion to what is left after the prompt, then answers 429 until the month ends', async () => {
      const used = (await usage()).totalTokens;
      expect((await setBudget(used + 12)).json()).toMatchObject({ remaining: 12 });
      // The prompt is estimated at 9 tokens (27 bytes): 3 are left for the answer.
      const capped = await chat(owner, { messages: [{ role: 'user', content: 'one two three four five six' }] });
      expect(capped.statusCode).toBe(200);
      expect(provider.requests.at(-1)?.body.max_tokens).toBe(3);
      expect(capped.json()).toMatchObject({ message: { content: 'echo: one two' }, finishReason: 'length' });
      // 6 + 3 tokens used: 3 left, less than this prompt's estimate.
      expect((await usage()).remaining).toBe(3);
      const calls = provider.requests.length;
      const refused = await chat(owner, hello);
      expect(refused.statusCode).toBe(429);
      expect(refused.json<Problem>()).toMatchObject({ type: '/problems/llm-budget-exhausted', budget: used + 12 });
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(31 * 86400);
      expect((await chat(owner, { ...hello, stream: true })).statusCode).toBe(429);
      expect((await call(owner, 'POST', `/organizations/${orgId}/llm/jobs`, hello)).statusCode).toBe(429);
      expect(provider.requests.length).toBe(calls);
      // Another organization is not affected.
      expect((await chat(other, hello, otherOrgId)).statusCode).toBe(200);
    });

    it('0 turns it off; null returns to the installation default (none: unlimited)', async () => {
      await setBudget(0);
      expect((await chat(owner, hello)).statusCode).toBe(429);
      expect((await setBudget(null)).json()).toMatchObject({ budget: null, remaining: null });
      expect((await chat(owner, hello)).statusCode).toBe(200);
    });
  });

  describe('background jobs', () => {
    const settle = async () => {
      await t.app.get(OutboxRelay).flush();
      await t.app.get<JobQueue, InProcessJobQueue>(JobQueue).drain();
    };
    const getJob = (as: Account, id: string, org = orgId) => call(as, 'GET', `/organizations/${org}/llm/jobs/${id}`);

    it('queues a chat (202), runs it, and shows the answer to whoever asked', async () => {
      const res = await call(member, 'POST', `/organizations/${orgId}/llm/jobs`, hello);
      expect(res.statusCode).toBe(202);
      const job = res.json<{ id: string; status: string }>();
      expect(job.status).toBe('queued');
      await settle();
      const done = await getJob(member, job.id);
      expect(done.json()).toMatchObject({
        id: job.id,
        status: 'succeeded',
        result: 'echo: hello there',
        finishReason: 'stop',
        usage: { promptTokens: 2, completionTokens: 3, totalTokens: 5 },
        error: null,
        attempts: 1,
      });
      // Nobody else: not another member, not another organization.
      expect((await getJob(owner, job.id)).statusCode).toBe(404);
      expect((await getJob(other, job.id, otherOrgId)).statusCode).toBe(404);
      expect((await getJob(viewer, job.id)).statusCode).toBe(403);
      expect((await call(member, 'GET', `/organizations/${orgId}/llm/jobs/not-a-uuid`)).statusCode).toBe(400);
    });

    it('ends as failed, with the problem, when the provider refuses', async () => {
      provider.script({ kind: 'status', status: 400, body: { error: { message: 'nope', code: 'content_filter' } } });
      const job = (await call(member, 'POST', `/organizations/${orgId}/llm/jobs`, hello)).json<{ id: string }>();
      await settle();
      expect((await getJob(member, job.id)).json()).toMatchObject({
        status: 'failed',
        result: null,
        error: { type: '/problems/llm-request-rejected', status: 422 },
      });
    });

    it('tries again when the provider is down, and a finished job is not run twice', async () => {
      const transactions = t.app.get(TenantTransaction);
      const processor = t.app.get(LlmChatProcessor);
      const job = await transactions.run(orgId, (m) =>
        m.save(
          m.create(LlmJob, {
            organizationId: orgId,
            requestedBy: member.userId,
            status: 'queued',
            model: 'small-model',
            messages: [{ role: 'user', content: 'retry me' }],
            maxTokens: 10,
            temperature: null,
          }),
        ),
      );
      const down = { kind: 'status' as const, status: 502, headers: { 'retry-after-ms': '1' } };
      provider.script(down, down);
      const payload = { llmJobId: job.id, organizationId: orgId };
      await expect(processor.handle(payload, { id: 'x', attempt: 1 })).rejects.toMatchObject({
        problem: { slug: 'llm-provider-error' },
      });
      expect((await getJob(member, job.id)).json()).toMatchObject({ status: 'queued', attempts: 1 });
      await processor.handle(payload, { id: 'x', attempt: 2 });
      expect((await getJob(member, job.id)).json()).toMatchObject({ status: 'succeeded', result: 'echo: retry me' });
      const calls = provider.requests.length;
      await processor.handle(payload, { id: 'x', attempt: 3 });
      expect(provider.requests.length).toBe(calls);
      expect(LlmChatJob.attempts).toBeGreaterThan(2);
    });
  });
});

describe('LLM not configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 503 llm-not-configured, for chats, jobs and usage alike', async () => {
    const owner = await registerAndLogin(t, 'llm-off');
    const headers = bearer(owner.tokens.access_token);
    const orgId = (
      await t.inject({ method: 'POST', url: '/api/v1/organizations', headers, payload: { name: 'Off' } })
    ).json<{ id: string }>().id;
    for (const [method, path] of [
      ['POST', 'chat'],
      ['POST', 'jobs'],
      ['GET', 'usage'],
    ] as const) {
      const res = await t.inject({
        method,
        url: `/api/v1/organizations/${orgId}/llm/${path}`,
        headers,
        ...(method === 'POST' ? { payload: hello } : {}),
      });
      expect(res.statusCode).toBe(503);
      expect(res.json<Problem>().type).toBe('/problems/llm-not-configured');
    }
  });
});
