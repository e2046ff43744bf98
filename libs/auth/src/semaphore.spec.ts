import { Semaphore } from './semaphore';

describe('Semaphore', () => {
  it('never runs more tasks than its limit, and runs them all', async () => {
    const gate = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const task = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return 1;
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => gate.run(task)));
    expect(results).toHaveLength(10);
    expect(peak).toBe(2);
  });

  it('releases its slot when a task fails', async () => {
    const gate = new Semaphore(1);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });
});
