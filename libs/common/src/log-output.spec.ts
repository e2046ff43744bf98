import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import pino from 'pino';
import { BatchedOutput, type BatchedOutputOptions } from './log-output';

const MODULE = join(__dirname, 'log-output.ts');

/** A child process that loads BatchedOutput (TypeScript, through swc) and runs `body` with it. */
function child(body: string): {
  exited: Promise<{ code: number | null; stderr: string }>;
  stdout: Readable;
  stderrLines: (line: string) => Promise<void>;
} {
  // Lines like `line` below; every other one in two-byte characters, so a batch split by bytes is
  // checked too.
  const script = `const { BatchedOutput } = require(${JSON.stringify(MODULE)});
const line = (n) => JSON.stringify({ n, pad: (n % 2 ? 'é' : 'x').repeat(90) }) + '\\n';
${body}`;
  const proc = spawn(process.execPath, ['-r', '@swc-node/register', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SWC_NODE_PROJECT: join(__dirname, '../../../tsconfig.json') },
  });
  let stderr = '';
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    for (const waiter of waiters.filter((w) => stderr.split('\n').includes(w.line))) waiter.resolve();
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    proc.on('close', (code) => resolve({ code, stderr })),
  );
  return {
    exited,
    stdout: proc.stdout,
    stderrLines: (line) =>
      Promise.race([
        new Promise<void>((resolve) => {
          if (stderr.split('\n').includes(line)) resolve();
          else waiters.push({ line, resolve });
        }),
        exited.then(({ code }) => {
          if (!stderr.split('\n').includes(line)) throw new Error(`child ended (${code}) without "${line}": ${stderr}`);
        }),
      ]),
  };
}

function collect(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => resolve(text));
    // A stream paused on purpose (the full-pipe tests) does not start again by a 'data' listener.
    stream.resume();
  });
}

/**
 * The parent reads nothing of the child's output until the child says it has handed over every line
 * ('handed-over' on its standard error); then all of it, to the end. The child must exit with 0.
 */
async function readAfterHandOver(proc: ReturnType<typeof child>): Promise<{ text: string; stderr: string }> {
  proc.stdout.pause();
  await proc.stderrLines('handed-over');
  const [text, { code, stderr }] = await Promise.all([collect(proc.stdout), proc.exited]);
  expect(code).toBe(0);
  return { text, stderr };
}

const line = (n: number, width = 90) => `${JSON.stringify({ n, pad: 'x'.repeat(width) })}\n`;
/** The `n`s of the lines of `text`, each line parsed whole (a torn line fails here). */
const numbers = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((row) => JSON.parse(row) as { n?: number; msg?: string });

describe('BatchedOutput', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'log-output-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `use` with an output to a fresh file, and what the file holds; closes both after. */
  async function toFile(
    options: Partial<BatchedOutputOptions>,
    use: (out: BatchedOutput, written: () => string) => void | Promise<void>,
  ): Promise<void> {
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    const out = new BatchedOutput(fd, options);
    try {
      await use(out, () => readFileSync(file, 'utf8'));
    } finally {
      out.close();
      closeSync(fd);
    }
  }

  it('holds lines until minLength characters wait, then writes them at once, in order', async () => {
    await toFile({ minLength: 1000, flushEveryMs: 60_000 }, (out, written) => {
      const sent: string[] = [];
      let length = 0;
      while (length + line(sent.length).length < 1000) {
        sent.push(line(sent.length));
        length += sent.at(-1)!.length;
        out.write(sent.at(-1)!);
      }
      expect(written()).toBe('');
      expect(out.waiting).toBe(length);
      sent.push(line(sent.length));
      out.write(sent.at(-1)!);
      expect(written()).toBe(sent.join(''));
      expect(out.waiting).toBe(0);
      out.write(line(99));
      out.flush();
      expect(written()).toBe(sent.join('') + line(99));
    });
  });

  it('writes a line longer than minLength at once, and one longer than maxPending when nothing waits', async () => {
    await toFile({ minLength: 100, flushEveryMs: 60_000, maxPending: 1000 }, (out, written) => {
      const long = `${JSON.stringify({ n: 1, pad: 'é'.repeat(2000) })}\n`;
      expect(out.write(line(0, 10))).toBe(true);
      expect(out.write(long)).toBe(true);
      expect(written()).toBe(line(0, 10) + long);
      expect(out.write(long)).toBe(true);
      expect(written()).toBe(line(0, 10) + long + long);
    });
  });

  it("answers pino's flush(callback), and writes every line at once after close()", async () => {
    await toFile({ minLength: 4096, flushEveryMs: 60_000 }, (out, written) => {
      const logger = pino({ base: null, timestamp: false }, out);
      logger.info('one');
      const flushed = jest.fn();
      logger.flush(flushed);
      expect(flushed).toHaveBeenCalledTimes(1);
      expect(written()).toBe('{"level":30,"msg":"one"}\n');
      out.close();
      logger.info('two');
      expect(written()).toBe('{"level":30,"msg":"one"}\n{"level":30,"msg":"two"}\n');
    });
  });

  it('writes a line that waited flushEveryMs, with nothing else logged', async () => {
    await toFile({ minLength: 4096, flushEveryMs: 20 }, async (out, written) => {
      out.write(line(1));
      for (let i = 0; i < 200 && written() === ''; i++) await new Promise((r) => setTimeout(r, 10));
      expect(written()).toBe(line(1));
    });
  });

  it.each([
    ['process.exit()', 'process.exit(3);', 3],
    ['an uncaught error', "throw new Error('boom');", 1],
    ['the event loop running out', '', 0],
  ])('writes what is pending when the process ends through %s', async (_how, ending, expectedCode) => {
    const proc = child(`
      const out = new BatchedOutput(1, { minLength: 1 << 20, flushEveryMs: 60000 });
      for (let n = 0; n < 500; n++) out.write(line(n));
      ${ending}
    `);
    const [text, { code }] = await Promise.all([collect(proc.stdout), proc.exited]);
    expect(code).toBe(expectedCode);
    expect(numbers(text).map((row) => row.n)).toEqual(Array.from({ length: 500 }, (_, n) => n));
  });

  it('does not block the event loop on a full pipe, and keeps every line whole and in order', async () => {
    // The parent reads nothing until the child says it has handed over every line: with a write that
    // blocked on the full pipe, the child would never get there (and the test would time out). The
    // child's stdout is what Node gives it for 'pipe' (a Unix socket pair), non-blocking once
    // process.stdout exists: EAGAIN and partial writes as on a pipe.
    const proc = child(`
      void process.stdout; // a pipe, now non-blocking, as the api's standard output
      const out = new BatchedOutput(1, { minLength: 4096, flushEveryMs: 20 });
      for (let n = 0; n < 20000; n++) out.write(line(n));
      process.stderr.write(out.waiting > 0 ? 'handed-over\\n' : 'nothing-waited\\n');
      const timer = setInterval(() => {
        if (out.waiting === 0) { clearInterval(timer); process.stderr.write('drained\\n'); }
      }, 5);
    `);
    const { text, stderr } = await readAfterHandOver(proc);
    // Drained while the process was alive (by the timer's retries), not only by the exit flush.
    expect(stderr).toContain('drained');
    expect(numbers(text).map((row) => row.n)).toEqual(Array.from({ length: 20000 }, (_, n) => n));
  });

  it('drops lines past maxPending while the pipe is full, and says how many, in their place', async () => {
    const proc = child(`
      void process.stdout;
      const out = new BatchedOutput(1, { minLength: 4096, flushEveryMs: 20, maxPending: 65536 });
      let kept = 0;
      for (let n = 0; n < 20000; n++) if (out.write(line(n))) kept++;
      process.stderr.write('kept ' + kept + '\\nhanded-over\\n');
      const timer = setInterval(() => {
        if (out.waiting === 0) { clearInterval(timer); out.write(JSON.stringify({ n: -1 }) + '\\n'); out.flush(); }
      }, 5);
    `);
    const { text, stderr } = await readAfterHandOver(proc);
    const kept = Number(/kept (\d+)/.exec(stderr)?.[1]);
    expect(kept).toBeLessThan(20000);
    // Every line kept is whole and in order, and each gap in them is a note saying how many lines
    // went missing there (a full pipe may drop in several runs); the later line comes last.
    const rows = numbers(text);
    let next = 0;
    let missing = 0;
    let notes = 0;
    for (const row of rows.slice(0, -1)) {
      if (row.msg !== undefined) {
        notes += 1;
        missing += Number(
          /^log output dropped (\d+) lines \(the reader fell behind, or a write failed\)$/.exec(row.msg)?.[1],
        );
        continue;
      }
      expect(row.n).toBe(next + missing);
      next = row.n! + 1;
      missing = 0;
    }
    expect(rows.at(-1)).toEqual({ n: -1 });
    expect(notes).toBeGreaterThan(0);
    expect(next + missing).toBe(20000);
    expect(rows.filter((row) => row.n !== undefined && row.n >= 0)).toHaveLength(kept);
  });

  it('survives a reader that went away (EPIPE): logging never takes the process down', async () => {
    const proc = child(`
      const out = new BatchedOutput(1, { minLength: 4096, flushEveryMs: 20 });
      setTimeout(() => {
        for (let n = 0; n < 5000; n++) out.write(line(n));
        out.flush();
        process.stderr.write('still-here\\n');
      }, 200);
    `);
    proc.stdout.destroy();
    const { code, stderr } = await proc.exited;
    expect(stderr).toContain('still-here');
    expect(stderr).toContain('log output to descriptor 1 ended (EPIPE); later log lines are dropped');
    expect(code).toBe(0);
  });
});
