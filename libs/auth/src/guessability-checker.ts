import { ProblemException } from '@app/common';
import { AsyncResource } from 'node:async_hooks';
import { Worker } from 'node:worker_threads';

export interface Guessability {
  /** zxcvbn's score, 0 (trivial) to 4 (very hard to guess). */
  score: number;
  /** zxcvbn's warning for a weak password, if it has one. */
  warning: string | null;
}

/** Checks waiting at once; past this the caller gets 503 rather than an ever longer queue. */
const MAX_WAITING = 16;
/**
 * How long the worker may go without answering while checks wait. Generous: the worst input found
 * (a long random password) takes about 4 s; this catches a stuck worker, not a slow check.
 */
const STALL_TIMEOUT_MS = 30_000;
/**
 * The dictionaries take about 30 MB. The old-generation cap keeps a runaway check from growing the
 * process; a small young generation keeps the loaded worker at about 45 MB of RSS instead of 60.
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 4 };

/**
 * Runs in the worker thread. Plain CommonJS (the module paths come from the main thread), so it
 * works the same from the build and from the TypeScript sources under test.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { ZxcvbnFactory } = require(workerData.core);
const common = require(workerData.common);
const english = require(workerData.english);
const estimator = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...english.dictionary },
  graphs: common.adjacencyGraphs,
  translations: english.translations,
});
parentPort.on('message', ({ id, password, userInputs }) => {
  try {
    const result = estimator.check(password, userInputs);
    parentPort.postMessage({ id, score: result.score, warning: result.feedback.warning || null });
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

/**
 * The async context this module was loaded in (start-up: no request, no test). The thread outlives
 * the request that started it, so it is made in this one: what an async context holds (a
 * request's store, a test's hooks) is kept for as long as the resource made in it lives.
 */
const processScope = new AsyncResource('guessability-thread');

interface Waiting {
  resolve: (result: Guessability) => void;
  reject: (error: Error) => void;
}

type Reply = { id: number; score: number; warning: string | null } | { id: number; error: string };

function unavailable(detail: string): ProblemException {
  return new ProblemException({
    status: 503,
    slug: 'password-check-unavailable',
    title: 'Service Unavailable',
    detail,
    headers: { 'retry-after': '5' },
  });
}

/**
 * zxcvbn in a worker thread, started on the first check and stopped after `idleMs` without one.
 *
 * Why not in the request's thread: a crafted password (a short pattern repeated to the length
 * limit) keeps zxcvbn busy for about half a second, and on the event loop that stalls every
 * request of the process; in a worker it only delays its own answer. Why not always loaded: the
 * dictionaries are about 30 MB of heap that a replica needs only while passwords are being set
 * (sign-up, change, reset), which is rare next to everything else it serves.
 */
export class GuessabilityChecker {
  private worker: Worker | undefined;
  /** The listeners this checker put on its worker, taken off again when it lets the worker go. */
  private detach: (() => void) | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Re-armed on every answer: fires only when the worker stops answering, however long the queue. */
  private stallTimer: NodeJS.Timeout | undefined;
  /**
   * The async context the checker was made in (start-up, no request). The worker and its
   * listeners are created in it, so they never hold on to the request that happened to start them.
   */
  private readonly scope = new AsyncResource('guessability-checker');

  constructor(
    private readonly idleMs: number,
    private readonly stallMs = STALL_TIMEOUT_MS,
  ) {}

  /** Whether the worker (and its dictionaries) is loaded right now. */
  get loaded(): boolean {
    return this.worker !== undefined;
  }

  /** Checks sent and not yet answered. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  check(password: string, userInputs: string[]): Promise<Guessability> {
    if (this.waiting.size >= MAX_WAITING) {
      return Promise.reject(unavailable('Too many password checks are waiting; try again in a few seconds.'));
    }
    let worker: Worker;
    try {
      worker = this.worker ?? this.scope.runInAsyncScope(() => this.start());
    } catch {
      return Promise.reject(unavailable('The password check could not start; try again in a few seconds.'));
    }
    clearTimeout(this.idleTimer);
    const id = ++this.nextId;
    return new Promise<Guessability>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) this.armStallTimer();
      worker.postMessage({ id, password, userInputs });
    });
  }

  /** Stops the worker; checks still waiting fail with `reason`. The next check starts a new one. */
  stop(reason: Error = unavailable('The password check was stopped; try again.')): void {
    const worker = this.letGo(reason);
    if (worker) void worker.terminate();
  }

  /** Detaches this checker from its worker, failing what waits with `reason`; returns the worker. */
  private letGo(reason: Error): Worker | undefined {
    clearTimeout(this.idleTimer);
    clearTimeout(this.stallTimer);
    const worker = this.worker;
    this.worker = undefined;
    this.detach?.();
    this.detach = undefined;
    for (const [id, entry] of this.waiting) {
      entry.reject(reason);
      this.waiting.delete(id);
    }
    return worker;
  }

  private start(): Worker {
    const worker = processScope.runInAsyncScope(
      () =>
        new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: {
            core: require.resolve('@zxcvbn-ts/core'),
            common: require.resolve('@zxcvbn-ts/language-common'),
            english: require.resolve('@zxcvbn-ts/language-en'),
          },
          resourceLimits: WORKER_LIMITS,
        }),
    );
    // An idle checker never holds the process open (tests, CLI commands); requests do that.
    worker.unref();
    const answered = (reply: Reply) => this.settle(reply);
    const lost = () => {
      if (this.worker === worker) this.stop(unavailable('The password check failed; try again in a few seconds.'));
    };
    worker.on('message', answered);
    worker.on('error', lost);
    worker.on('exit', lost);
    this.detach = () => {
      worker.off('message', answered);
      worker.off('error', lost);
      worker.off('exit', lost);
    };
    this.worker = worker;
    return worker;
  }

  private armStallTimer(): void {
    this.stallTimer = this.scope.runInAsyncScope(() =>
      setTimeout(() => {
        this.stop(unavailable('The password check stopped answering; try again in a few seconds.'));
      }, this.stallMs),
    );
    this.stallTimer.unref();
  }

  private settle(reply: Reply): void {
    const entry = this.waiting.get(reply.id);
    if (!entry) return;
    this.waiting.delete(reply.id);
    clearTimeout(this.stallTimer);
    if (this.waiting.size > 0) this.armStallTimer();
    if ('error' in reply) entry.reject(unavailable('The password check failed; try again in a few seconds.'));
    else entry.resolve({ score: reply.score, warning: reply.warning });
    if (this.waiting.size === 0) {
      // Made in the checker's own context, like the stall timer: not holding the last request for idleMs.
      this.idleTimer = this.scope.runInAsyncScope(() => setTimeout(() => this.stop(), this.idleMs));
      this.idleTimer.unref();
    }
  }
}
