import { writeSync } from 'node:fs';

export interface BatchedOutputOptions {
  /** Lines collect until this many characters are pending, then go out in one write. */
  minLength: number;
  /** Lines waiting longer than this go out anyway (a quiet process still logs promptly). */
  flushEveryMs: number;
  /**
   * The most characters kept while the reader does not keep up (a full pipe). Beyond it, lines
   * are dropped and counted; a line saying how many follows once writing resumes.
   */
  maxPending: number;
}

const DEFAULTS: BatchedOutputOptions = { minLength: 4096, flushEveryMs: 250, maxPending: 16 * 1024 * 1024 };
/** After a write found the pipe full: how long to leave it before trying again. */
const RETRY_FULL_MS = 10;
/** At exit, how long to keep retrying a full pipe before giving the rest up. */
const EXIT_BUDGET_MS = 2_000;

/**
 * Where the loggers' lines go: a file descriptor (standard output), written in batches with plain
 * synchronous writes. A busy api logs a line per request; writing them one system call each, or
 * through pino's asynchronous destination (sonic-boom, which measures its whole pending text on
 * every line), was most of an access line's cost (docs/observability.md, "Output").
 *
 * - Lines are kept in order and written whole: a batch the kernel takes only part of keeps its
 *   rest for the next write, so a reader never sees one line torn across another.
 * - A full pipe (EAGAIN, when the descriptor is non-blocking) never blocks the event loop: the
 *   batch waits and is tried again; past `maxPending` lines are dropped and counted, not held
 *   without bound.
 * - On exit (normal, `process.exit`, or an uncaught error) whatever is pending is written before
 *   the process ends. A SIGKILL loses at most `flushEveryMs` of lines.
 * - Any other write error (the reader is gone) drops the output: logging must not take the
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

  /** pino's destination interface: one serialized line, newline included. */
  write(line: string): boolean {
    if (this.broken) return false;
    if (this.pendingLength + line.length > this.options.maxPending) {
      this.dropped += 1;
      return false;
    }
    if (this.dropped > 0) this.noteDropped();
    this.lines.push(line);
    this.pendingLength += line.length;
    if (this.pendingLength >= this.options.minLength && Date.now() >= this.retryAt) this.flush();
    return true;
  }

  /** Characters accepted and not yet written (bytes, for the part of a batch already encoded). */
  get waiting(): number {
    return this.pendingLength + (this.rest?.length ?? 0);
  }

  /** Writes what is pending now, as far as the reader takes it. */
  flush(): void {
    if (this.broken) return;
    if (!this.drainRest()) return;
    if (this.dropped > 0) this.noteDropped();
    if (this.lines.length === 0) return;
    this.rest = Buffer.from(this.lines.length === 1 ? this.lines[0]! : this.lines.join(''), 'utf8');
    this.lines = [];
    this.pendingLength = 0;
    this.drainRest();
  }

  /** Stops the timer and the exit hook (tests; a process keeps its output for life). */
  close(): void {
    this.flushAtExit();
    clearInterval(this.timer);
    process.removeListener('exit', this.onExit);
  }

  /** Everything pending, retrying a full pipe for up to EXIT_BUDGET_MS: the process is ending. */
  private flushAtExit(): void {
    const deadline = Date.now() + EXIT_BUDGET_MS;
    for (;;) {
      this.retryAt = 0;
      this.flush();
      if (this.broken || (this.rest === undefined && this.lines.length === 0)) return;
      if (Date.now() >= deadline) return;
      // A full pipe: give the reader a moment (no event loop left to wait on).
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
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.retryAt = Date.now() + RETRY_FULL_MS;
          return false;
        }
        this.broken = true;
        this.rest = undefined;
        this.lines = [];
        this.pendingLength = 0;
        return false;
      }
      this.rest = written >= this.rest.length ? undefined : this.rest.subarray(written);
    }
    return true;
  }

  /** Where the lines went missing: after those kept before them, before those kept after. */
  private noteDropped(): void {
    const line = `${JSON.stringify({
      level: 40,
      time: new Date().toISOString(),
      pid: process.pid,
      msg: `log output could not keep up: ${this.dropped} lines dropped`,
    })}\n`;
    this.dropped = 0;
    this.lines.push(line);
    this.pendingLength += line.length;
  }
}
