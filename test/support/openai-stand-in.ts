import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer, used instead of the default echo for the next request. */
export type StandInReply =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Accepts the request and never answers (for timeouts). */
  | { kind: 'hang' }
  /** Streams `chunks` words, then drops the connection without finishing. */
  | { kind: 'break'; chunks: number };

export interface StandInRequest {
  path: string;
  authorization: string | undefined;
  body: {
    model: string;
    messages: Array<{ role: string; content: string }>;
    max_tokens?: number;
    temperature?: number;
    stream?: boolean;
    stream_options?: { include_usage?: boolean };
  };
}

export interface OpenAiStandIn {
  /** Base URL to put in OPENAI_BASE_URL (ends in /v1). */
  url: string;
  requests: StandInRequest[];
  /** Scripted replies for the next requests, in order; then the echo again. */
  script(...replies: StandInReply[]): void;
  /** Leave out usage (as some OpenAI-compatible servers do). */
  omitUsage: boolean;
  /** Milliseconds between streamed chunks. */
  chunkDelayMs: number;
  /** Streams whose client went away before the end. */
  abandoned: number;
  close(): Promise<void>;
}

const words = (text: string) => text.split(/\s+/).filter(Boolean);

/**
 * A loopback server speaking the OpenAI chat-completions wire format: JSON answers, server-sent
 * event streams (`data: {chunk}` … `data: [DONE]`, usage in a last chunk when asked), and error
 * bodies shaped like OpenAI's. By default it answers `echo: <last user message>`, one token a word,
 * cut to max_tokens (finish_reason `length`).
 */
export async function startOpenAiStandIn(): Promise<OpenAiStandIn> {
  const queue: StandInReply[] = [];
  const hanging = new Set<ServerResponse>();
  const standIn: OpenAiStandIn = {
    url: '',
    requests: [],
    omitUsage: false,
    chunkDelayMs: 0,
    abandoned: 0,
    script: (...replies) => queue.push(...replies),
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = createServer((request, response) => {
    void handle(request, response).catch(() => response.destroy());
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
      return json(response, 404, { error: { message: 'Unknown path', type: 'invalid_request_error', code: null } });
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as StandInRequest['body'];
    standIn.requests.push({ path: request.url, authorization: request.headers.authorization, body });

    const reply = queue.shift();
    if (reply?.kind === 'status') {
      for (const [name, value] of Object.entries(reply.headers ?? {})) response.setHeader(name, value);
      return json(response, reply.status, reply.body ?? { error: { message: 'scripted', type: 'server_error' } });
    }
    if (reply?.kind === 'hang') {
      hanging.add(response);
      return;
    }

    const lastUser = [...body.messages].reverse().find((message) => message.role === 'user');
    let answer = words(`echo: ${lastUser?.content ?? ''}`);
    let finishReason = 'stop';
    if (body.max_tokens !== undefined && answer.length > body.max_tokens) {
      answer = answer.slice(0, body.max_tokens);
      finishReason = 'length';
    }
    const usage = {
      prompt_tokens: body.messages.reduce((sum, message) => sum + words(message.content).length, 0),
      completion_tokens: answer.length,
      total_tokens: 0,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
    const created = Math.floor(Date.now() / 1000);

    if (!body.stream) {
      return json(response, 200, {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: answer.join(' ') }, finish_reason: finishReason }],
        ...(standIn.omitUsage ? {} : { usage }),
      });
    }

    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (chunk: unknown) => response.write(`data: ${JSON.stringify(chunk)}\n\n`);
    const base = { id, object: 'chat.completion.chunk', created, model: body.model };
    send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    for (const [index, word] of answer.entries()) {
      if (reply?.kind === 'break' && index === reply.chunks) {
        // Give the client time to take the head and the first chunks: a break before that is
        // a failed request (which the client retries), not a broken stream.
        await new Promise((resolve) => setTimeout(resolve, 100));
        response.destroy();
        return;
      }
      if (standIn.chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, standIn.chunkDelayMs));
      if (response.destroyed) {
        standIn.abandoned++;
        return;
      }
      send({
        ...base,
        choices: [{ index: 0, delta: { content: index === 0 ? word : ` ${word}` }, finish_reason: null }],
      });
    }
    send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finishReason }] });
    if (body.stream_options?.include_usage && !standIn.omitUsage) send({ ...base, choices: [], usage });
    response.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return standIn;
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
