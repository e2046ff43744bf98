import { Writable } from 'node:stream';
import pino from 'pino';
import { AppLogger, createRootLogger, isoTimeOncePerMillisecond } from './logger';

function sink(): { stream: Writable; text(): string } {
  let written = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written += chunk.toString();
      callback();
    },
  });
  return { stream, text: () => written };
}

describe('createRootLogger', () => {
  it('writes one JSON object per line, secrets redacted', () => {
    const out = sink();
    const logger = new AppLogger(createRootLogger('info', 'api', out.stream));
    logger.log({ user: { email: 'a@example.test', password: 'hunter2-hunter2' }, token: 'tok-123' }, 'Auth');
    const line = JSON.parse(out.text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, name: 'api', context: 'Auth', token: '[redacted]' });
    expect(line.user).toEqual({ email: 'a@example.test', password: '[redacted]' });
  });

  it('writes readable lines in the pretty format, with the same redaction', async () => {
    const out = sink();
    const logger = new AppLogger(createRootLogger('info', 'api', out.stream, 'pretty'));
    logger.log({ password: 'hunter2-hunter2', msg: 'signed in' }, 'Auth');
    logger.warn('disk nearly full', 'Storage');
    logger.pino.info({ method: 'GET', path: '/api/v1/users/me', status: 200, ms: 7 }, 'request');
    // pino-pretty formats on its own stream: let it flush.
    await new Promise((resolve) => setImmediate(resolve));
    const text = out.text();
    expect(text).toMatch(/INFO.*\[Auth\] signed in/);
    expect(text).toMatch(/WARN.*\[Storage\] disk nearly full/);
    expect(text).toMatch(/INFO: GET \/api\/v1\/users\/me 200 7ms/);
    expect(text).toContain('[redacted]');
    expect(text).not.toContain('hunter2');
    expect(() => JSON.parse(text.split('\n')[0]!) as unknown).toThrow();
    // Colour codes are for terminals only, not for a stream the caller supplied.
    expect(text).not.toContain('\u001b[');
  });
});

describe('isoTimeOncePerMillisecond', () => {
  afterEach(() => jest.restoreAllMocks());

  it("writes pino's isoTime text, made again only when the millisecond changes", () => {
    const now = jest.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 11, 4, 18, 0, 0, 5));
    const first = isoTimeOncePerMillisecond();
    expect(first).toBe(',"time":"2026-12-04T18:00:00.005Z"');
    expect(first).toBe(pino.stdTimeFunctions.isoTime());
    expect(isoTimeOncePerMillisecond()).toBe(first);
    now.mockReturnValue(Date.UTC(2026, 11, 4, 18, 0, 0, 6));
    expect(isoTimeOncePerMillisecond()).toBe(',"time":"2026-12-04T18:00:00.006Z"');
    expect(isoTimeOncePerMillisecond()).toBe(pino.stdTimeFunctions.isoTime());
  });

  it('stamps the lines of the loggers', () => {
    const out = sink();
    createRootLogger('info', 'api', out.stream).info('hello');
    const line = JSON.parse(out.text().split('\n')[0]!) as { time: string };
    expect(new Date(line.time).toISOString()).toBe(line.time);
    expect(Math.abs(Date.parse(line.time) - Date.now())).toBeLessThan(5_000);
  });
});
