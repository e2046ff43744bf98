import { defineJob, retryDelayMs } from './job-definition';

describe('retryDelayMs', () => {
  it('grows exponentially, between the base and its doubling ceiling', () => {
    expect(retryDelayMs(1_000, 1, () => 0)).toBe(1_000);
    expect(retryDelayMs(1_000, 1, () => 1)).toBe(1_000);
    expect(retryDelayMs(1_000, 3, () => 0)).toBe(1_000);
    expect(retryDelayMs(1_000, 3, () => 1)).toBe(4_000);
    expect(retryDelayMs(1_000, 4, () => 0.5)).toBe(4_500);
  });

  it('spreads retries (jitter) so failures do not retry in lockstep', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(1_000, 5)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('defineJob', () => {
  it('applies defaults', () => {
    expect(defineJob('x.y')).toEqual({ name: 'x.y', queue: 'default', attempts: 3, backoffMs: 1_000 });
  });
});
