import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readServicesEnv } from '@app/testing';

/** Keeps `npm run bench` working: one short scenario, and the shape of what it writes. */
describe('benchmark script', () => {
  it('runs the baseline, the bare-Nest floor and /health for a second each and writes results.json and report.md', () => {
    const services = readServicesEnv();
    if (!services) throw new Error('run with npm run test:services');
    const out = mkdtempSync(join(tmpdir(), 'bench-'));
    const run = spawnSync(
      process.execPath,
      [
        join(__dirname, '../../bench/bench.js'),
        ...[
          '--scenarios',
          'baseline,nest-floor,health,jobs',
          '--duration',
          '1',
          '--rounds',
          '1',
          '--warmup',
          '0',
          '--mails',
          '40',
        ],
        ...['--connections', '2', '--out', out],
      ],
      {
        env: { ...process.env, BENCH_ADMIN_URL: services.adminUrl, BENCH_REDIS_URL: services.redisUrl },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect({ status: run.status, stderr: run.stderr.slice(-2000) }).toEqual({ status: 0, stderr: '' });
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      scenarios: Record<
        string,
        {
          requestsPerSecond: number;
          ratioToBaseline: number;
          p99Ms: number;
          errors: number;
          apiCpuUsPerRequest?: number;
          cpuVsFloor?: number;
        }
      >;
      equalRate: Record<
        string,
        { floor: string; rate: number; requestsPerSecond: number; floorCpuUsPerRequest: number; errors: number }
      >;
      memory: { idleMb: number };
      jobs?: { mails: number; delivered: number; duplicates: number; jobsPerSecond: number };
    };
    expect(Object.keys(results.scenarios)).toEqual(['baseline', 'nest-floor', 'health']);
    // /health's CPU per request against bare Nest's, both measured in their own processes.
    expect(results.scenarios['nest-floor']?.apiCpuUsPerRequest).toBeGreaterThan(0);
    expect(results.scenarios.health?.cpuVsFloor).toBeGreaterThan(0);
    expect(results.scenarios.baseline).toMatchObject({ ratioToBaseline: 1, errors: 0 });
    expect(results.scenarios.health?.requestsPerSecond).toBeGreaterThan(0);
    expect(results.scenarios.health?.ratioToBaseline).toBeGreaterThan(0);
    expect(results.scenarios.health?.apiCpuUsPerRequest).toBeGreaterThan(0);
    // The pair again at one rate for both: half of what /health served at full speed.
    expect(results.equalRate.health).toMatchObject({
      floor: 'nest-floor',
      rate: Math.round(results.scenarios.health!.requestsPerSecond / 2),
      errors: 0,
    });
    expect(results.equalRate.health?.requestsPerSecond).toBeGreaterThan(0);
    expect(results.scenarios.baseline?.apiCpuUsPerRequest).toBeUndefined();
    expect(results.memory.idleMb).toBeGreaterThan(0);
    // Every mail job went through the outbox, BullMQ and the worker process, and arrived once.
    expect(results.jobs).toMatchObject({ mails: 40, delivered: 40, duplicates: 0 });
    expect(results.jobs?.jobsPerSecond).toBeGreaterThan(0);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('| scenario | req/s | × baseline |');
    // Any ratio: a one-second run on a busy machine measures little; the format is what is checked.
    expect(report).toMatch(/\| health \| \d+ \| \d+(\.\d+)? \|/);
  });
});
