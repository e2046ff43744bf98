import { ProblemException } from '@app/common';
import { GuessabilityChecker } from './guessability-checker';

// A short pattern repeated: zxcvbn's repeat matcher takes hundreds of milliseconds on it.
const SLOW = 'aA1!'.repeat(32);

describe('GuessabilityChecker (zxcvbn in a worker thread)', () => {
  const checkers: GuessabilityChecker[] = [];
  const checker = (idleMs = 60_000, stallMs?: number) => {
    const created = new GuessabilityChecker(idleMs, stallMs);
    checkers.push(created);
    return created;
  };
  afterAll(() => {
    for (const created of checkers) created.stop();
  });

  it('is not loaded until a password is checked, then scores like zxcvbn', async () => {
    const subject = checker();
    expect(subject.loaded).toBe(false);
    const weak = await subject.check('password123', []);
    expect(subject.loaded).toBe(true);
    expect(weak.score).toBeLessThan(3);
    expect(weak.warning).toEqual(expect.any(String));
    expect((await subject.check('Tangerine-Vortex-Quill-8841', [])).score).toBeGreaterThanOrEqual(3);
  });

  it('treats the user inputs as guessable', async () => {
    const subject = checker();
    const password = 'marguerite-okonkwo';
    const without = await subject.check(password, []);
    const withInputs = await subject.check(password, ['marguerite', 'okonkwo']);
    expect(withInputs.score).toBeLessThan(without.score);
  });

  it('keeps the event loop free while a slow password is checked', async () => {
    const subject = checker();
    await subject.check('warm-up', []);
    const order: string[] = [];
    const checked = subject.check(SLOW, []).then(() => order.push('checked'));
    // Timers and immediates queued after the check still run before it answers: it is elsewhere.
    await new Promise<void>((resolve) => setImmediate(resolve));
    order.push('loop turned');
    await checked;
    expect(order).toEqual(['loop turned', 'checked']);
  });

  it('stops after the idle time, and the next check loads it again', async () => {
    const subject = checker(50);
    await subject.check('first-check', []);
    expect(subject.loaded).toBe(true);
    for (let i = 0; i < 100 && subject.loaded; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(subject.loaded).toBe(false);
    expect((await subject.check('Tangerine-Vortex-Quill-8841', [])).score).toBeGreaterThanOrEqual(3);
    expect(subject.loaded).toBe(true);
  });

  it('stays loaded while checks keep coming', async () => {
    const subject = checker(100_000);
    await subject.check('one', []);
    await subject.check('two', []);
    expect(subject.loaded).toBe(true);
  });

  it('answers 503 instead of queueing without bound', async () => {
    const subject = checker();
    const accepted = Array.from({ length: 16 }, () => subject.check(SLOW, []));
    const refused = await subject.check(SLOW, []).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ProblemException);
    expect((refused as ProblemException).problem).toMatchObject({
      status: 503,
      slug: 'password-check-unavailable',
      headers: { 'retry-after': '5' },
    });
    subject.stop();
    const outcomes = await Promise.allSettled(accepted);
    // Stopping fails what was waiting (503 too), and nothing hangs.
    expect(
      outcomes.every((outcome) => outcome.status === 'fulfilled' || outcome.reason instanceof ProblemException),
    ).toBe(true);
    expect(subject.loaded).toBe(false);
  });

  it('gives up on a worker that stops answering: 503, and the next check starts a new one', async () => {
    const subject = checker(60_000, 10_000);
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const stalled = subject.check(SLOW, []).catch((error: unknown) => error);
      // The clock moves past the watchdog before the worker's answer can be read.
      jest.advanceTimersByTime(10_000);
      expect(((await stalled) as ProblemException).problem).toMatchObject({
        status: 503,
        slug: 'password-check-unavailable',
      });
      expect(subject.loaded).toBe(false);
    } finally {
      jest.useRealTimers();
    }
    expect((await subject.check('password123', [])).score).toBeLessThan(3);
  });

  it('recovers when the worker dies: the waiting check fails with 503, the next one works', async () => {
    const subject = checker();
    await subject.check('warm-up', []);
    const worker = (subject as unknown as { worker: { terminate(): Promise<number> } }).worker;
    const waiting = subject.check(SLOW, []).catch((error: unknown) => error);
    await worker.terminate();
    const failure = await waiting;
    expect(failure).toBeInstanceOf(ProblemException);
    expect((failure as ProblemException).problem.status).toBe(503);
    expect(subject.loaded).toBe(false);
    expect((await subject.check('password123', [])).score).toBeLessThan(3);
  });
});
