import { writeSync } from 'node:fs';

export interface BatchedOutputOptions {
  /** Lines collect until at least this many characters wait, then go out in one write. */
  minLength: number;
  /** Lines waiting longer than this go out anyway (a quiet process still logs promptly). */
  flushEveryMs: number;
  /**
   * The most characters (and bytes of a partly written batch) kept while the reader does not keep
   * up (a full pipe). Beyond it, lines are dropped and counted; a line saying how many takes their
   * place once there is room again.
   */
  maxPending: number;
}

const DEFAULTS: BatchedOutputOptions = { minLength: 4096, flushEveryMs: 250, maxPending: 16 * 1024 * 1024 };
/** After a write found the pipe full: how long to leave it before trying again. */
const RETRY_FULL_MS = 10;
/** At exit, how long to keep retrying a full pipe before giving the rest up. */
const EXIT_BUDGET_MS = 2_000;
/** Errors after which the descriptor will never take a line again (the reader is gone). */
const GONE = new Set(['EPIPE', 'EBADF', 'ECONNRESET']);

/**
 * Where the loggers' lines go: a file descriptor (standard output), written in batches with plain
 * synchronous writes. A busy api logs a line per request; through pino's asynchronous destination
 * (sonic-boom, which measures the UTF-8 length of its buffered text on every line and hands each
 * batch to libuv's thread pool) that write was most of an access line's cost
 * (docs/observability.md, "Output").
 *
 * - Its own lines stay in order and whole: a batch the kernel takes only part of keeps its rest,
 *   as bytes, for the next write. (Text written to the same descriptor by other means, such as
 *   process.stdout, can still land between two parts of a batch.)
 * - A full pipe (EAGAIN, when the descriptor is non-blocking) never blocks the event loop: the
 *   batch waits and is tried again by the next line or the timer; past `maxPending` lines are
 *   dropped and counted, not held without bound.
 * - On exit (normal, `process.exit`, or an uncaught error) whatever is pending is written, and a
 *   line logged after that goes out at once. A SIGKILL, or a signal without a handler, loses what
 *   was pending: at most `flushEveryMs` of lines while the reader keeps up.
 * - A reader that is gone (EPIPE, EBADF) ends the output, with one line on standard error saying
 *   so; another write error drops that batch and counts its lines. Logging must not take the
 *   process down.
 */
export class BatchedOutput {
  private readonly options: BatchedOutputOptions;
  private lines: string[] = [];
  private pendingLength = 0;
  /** Bytes of a batch the kernel took only part of: written before any later line. */
  private rest: Buffer | undefined;
  private dropped = 0;
  private retryAt = 0;
  private broken = false;
  /** Set once the process is ending (or close() ran): every line is written at once from then on. */
  private ending = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = (): void => this.flushAtExit();

  constructor(
    private readonly fd: number,
    options: Partial<BatchedOutputOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.timer = setInterval(() => this.flush(), this.options.flushEveryMs);
    this.timer.unref();
    process.on('exit', this.onExit);
  }

  /** Characters accepted and not yet written (bytes, for the part of a batch already encoded). */
  get waiting(): number {
    return this.pendingLength + (this.rest?.length ?? 0);
  }

  /** pino's destination interface: one serialized line, newline included. */
  write(line: string): boolean {
    if (this.broken) return false;
    if (this.overflows(line)) {
      // The reader may have caught up since the last try: make room before dropping anything.
      if (Date.now() >= this.retryAt) this.flush();
      if (this.broken || this.overflows(line)) {
        this.dropped += 1;
        return false;
      }
    }
    if (this.dropped > 0) this.noteDropped();
    this.lines.push(line);
    this.pendingLength += line.length;
    if (this.ending) this.flushAtExit();
    else if (this.pendingLength >= this.options.minLength && Date.now() >= this.retryAt) this.flush();
    return true;
  }

  /** Whether `line` would take more than maxPending waiting (a lone line is always taken). */
  private overflows(line: string): boolean {
    return this.waiting > 0 && this.waiting + line.length > this.options.maxPending;
  }

  /** Writes what is pending now, as far as the reader takes it (pino's `logger.flush(callback)` too). */
  flush(callback?: (error?: Error) => void): void {
    this.writePending();
    callback?.();
  }

  /** Writes what is pending and stops the timer and the exit hook (tests; later lines go out at once). */
  close(): void {
    this.flushAtExit();
    clearInterval(this.timer);
    process.removeListener('exit', this.onExit);
  }

  private writePending(): void {
    if (this.broken) return;
    if (!this.drainRest()) return;
    if (this.dropped > 0) this.noteDropped();
    if (this.lines.length === 0) return;
    this.rest = Buffer.from(this.lines.length === 1 ? this.lines[0]! : this.lines.join(''), 'utf8');
    this.lines = [];
    this.pendingLength = 0;
    this.drainRest();
  }

  /** Everything pending, retrying a full pipe for up to EXIT_BUDGET_MS: the process is ending. */
  private flushAtExit(): void {
    this.ending = true;
    const deadline = Date.now() + EXIT_BUDGET_MS;
    for (;;) {
      this.retryAt = 0;
      this.writePending();
      if (this.broken || this.waiting === 0 || Date.now() >= deadline) return;
      // A full pipe: give the reader a moment (there is no event loop left to wait on).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }

  /** Writes the partly written batch; true once nothing of it is left. */
  private drainRest(): boolean {
    while (this.rest !== undefined) {
      let written: number;
      try {
        written = writeSync(this.fd, this.rest);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (code === 'EAGAIN') {
          this.retryAt = Date.now() + RETRY_FULL_MS;
          return false;
        }
        this.dropped += linesIn(this.rest);
        this.rest = undefined;
        if (GONE.has(code)) this.stop(code);
        return !this.broken;
      }
      this.rest = written >= this.rest.length ? undefined : this.rest.subarray(written);
    }
    return true;
  }

  /** The reader is gone: nothing more is kept or written here. */
  private stop(code: string): void {
    this.broken = true;
    this.lines = [];
    this.pendingLength = 0;
    try {
      writeSync(2, `log output to descriptor ${this.fd} ended (${code}); later log lines are dropped\n`);
    } catch {
      // standard error is gone too
    }
  }

  /** Where the lines went missing: after those kept before them, before those kept after. */
  private noteDropped(): void {
    const line = `${JSON.stringify({
      level: 40,
      time: new Date().toISOString(),
      pid: process.pid,
      msg: `log output dropped ${this.dropped} lines (the reader fell behind, or a write failed)`,
    })}\n`;
    this.dropped = 0;
    this.lines.push(line);
    this.pendingLength += line.length;
  }
}

/** How many lines a batch held (each ends with a newline). */
function linesIn(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) count += 1;
  return Math.max(count, 1);
}
