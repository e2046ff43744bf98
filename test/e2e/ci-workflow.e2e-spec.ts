import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The GitHub Actions workflow a fork inherits makes the checks .ci/run makes. */
describe('the GitHub Actions workflow', () => {
  const ROOT = join(__dirname, '..', '..');
  interface Step {
    run?: string;
    uses?: string;
    with?: Record<string, unknown>;
  }
  const workflow = parse(readFileSync(join(ROOT, '.github/workflows/ci.yml'), 'utf8')) as {
    jobs: Record<string, { steps: Step[]; services?: Record<string, { image: string }> }>;
  };
  const scripts = Object.keys(
    (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts,
  );
  const runs = Object.values(workflow.jobs).flatMap((job) => job.steps.map((step) => step.run ?? ''));

  it('runs what .ci/run runs, in the same order, on a PostgreSQL service', () => {
    const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    const checks = ['npm run lint', 'npm run typecheck', 'npm test', 'npm run test:services'];
    for (const check of checks) expect(ci).toContain(check);
    const test = workflow.jobs.test;
    const commands = (test?.steps ?? []).map((step) => step.run ?? '');
    const at = checks.map((check) => commands.indexOf(check));
    expect(at.every((index) => index >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(commands.some((command) => command.startsWith('npm ci'))).toBe(true);
    expect(test?.services?.postgres?.image).toMatch(/^postgres:/);
  });

  it('names only npm scripts that exist', () => {
    const named = runs.flatMap((run) => [...run.matchAll(/npm run ([\w:-]+)/g)].map((match) => match[1]));
    expect(named.filter((script) => !scripts.includes(script ?? ''))).toEqual([]);
  });

  it('builds the runtime image', () => {
    const build = Object.values(workflow.jobs)
      .flatMap((job) => job.steps)
      .find((step) => step.uses?.startsWith('docker/build-push-action'));
    expect(build?.with).toMatchObject({ target: 'runtime', push: false });
  });
});
