import { Writable } from 'node:stream';
import { AppLogger, createRootLogger } from './logger';

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
