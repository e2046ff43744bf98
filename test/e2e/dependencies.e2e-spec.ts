import { newId } from '@app/common';
import { DependencyReport, TenantTransaction } from '@app/database';
import { classify, KEPT_DEPENDENCY_REPORTS } from '@app/jobs';
import { JobQueue, OutboxRelay, type InProcessJobQueue } from '@app/queue';
import {
  bearer,
  createTestApp,
  freePort,
  registerAndLogin,
  setPlatformAdmin,
  startNpmRegistryStandIn,
  type NpmRegistryStandIn,
  type TestApp,
} from '@app/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';

type Account = Awaited<ReturnType<typeof registerAndLogin>>;
interface Finding {
  name: string;
  kind: string;
  installed: string;
  latest: string | null;
  status: string;
  inRange: boolean | null;
  error?: string;
}
interface Report {
  registry: string;
  summary: Record<string, number>;
  packages: Finding[];
}

const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const installed = (name: string) =>
  (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** The registry's answers: one package of each kind of lag, one missing, one failing, the rest current. */
function latestFor(name: string): string | number | undefined {
  const version = installed(name);
  if (name === 'bullmq') return semver.inc(version, 'major') ?? undefined;
  if (name === 'pg') return semver.inc(version, 'minor') ?? undefined;
  if (name === '@nestjs/core') return semver.inc(version, 'patch') ?? undefined;
  if (name === 'rxjs') return undefined;
  if (name === 'qrcode') return 503;
  return version;
}

describe('dependency report', () => {
  let t: TestApp;
  let registry: NpmRegistryStandIn;
  let admin: Account;
  let someone: Account;

  const call = (as: Account, method: 'GET' | 'POST', path: string) =>
    t.inject({ method, url: `/api/v1/admin/dependencies${path}`, headers: bearer(as.tokens.access_token) });
  const runCheck = async () => {
    expect((await call(admin, 'POST', '/check')).statusCode).toBe(202);
    await t.app.get(OutboxRelay).flush();
    await t.app.get<JobQueue, InProcessJobQueue>(JobQueue).drain();
    return (await call(admin, 'GET', '')).json<Report>();
  };

  beforeAll(async () => {
    registry = await startNpmRegistryStandIn(latestFor);
    t = await createTestApp({ env: { NPM_REGISTRY_URL: registry.url } });
    admin = await registerAndLogin(t, 'deps-admin');
    someone = await registerAndLogin(t, 'deps-someone');
    await setPlatformAdmin(t, admin.userId);
  });
  afterAll(async () => {
    await t.close();
    await registry.close();
  });

  it('is for platform admins only, and 404 until a check has run', async () => {
    expect((await call(someone, 'GET', '')).statusCode).toBe(403);
    expect((await call(someone, 'POST', '/check')).statusCode).toBe(403);
    const none = await call(admin, 'GET', '');
    expect(none.statusCode).toBe(404);
    expect(none.headers['content-type']).toContain('application/problem+json');
  });

  it('compares every installed package with the registry and says how far behind it is', async () => {
    const report = await runCheck();
    expect(report.registry).toBe(registry.url);
    const byName = new Map(report.packages.map((finding) => [finding.name, finding]));
    expect(byName.get('bullmq')).toMatchObject({
      kind: 'dependency',
      installed: installed('bullmq'),
      status: 'major',
      inRange: false,
    });
    expect(byName.get('pg')).toMatchObject({ status: 'minor', installed: installed('pg') });
    expect(byName.get('@nestjs/core')).toMatchObject({ status: 'patch' });
    expect(byName.get('typescript')).toMatchObject({ kind: 'devDependency', status: 'up-to-date' });
    expect(byName.get('rxjs')).toMatchObject({ status: 'unknown', latest: null, error: 'not found in the registry' });
    expect(byName.get('qrcode')).toMatchObject({ status: 'unknown', error: 'registry answered 503' });
    // Every listed package (all are installed here), once.
    const listed = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
    expect(report.packages.map((finding) => finding.name).sort()).toEqual([...listed].sort());
    expect(report.summary).toEqual({
      total: listed.length,
      'up-to-date': listed.length - 5,
      patch: 1,
      minor: 1,
      major: 1,
      unknown: 2,
    });
    // Scoped names travel encoded, and npm's abbreviated documents are asked for.
    expect(registry.asked).toContain('@nestjs/core');
    expect(registry.accepts[0]).toContain('application/vnd.npm.install-v1+json');
  });

  it('records who asked for a check', async () => {
    const rows = await t.app
      .get(TenantTransaction)
      .runAsSystem((m) =>
        m.query<Array<{ actor_id: string }>>(`SELECT actor_id FROM audit_logs WHERE action = 'dependencies.check'`),
      );
    expect(rows.map((row) => row.actor_id)).toContain(admin.userId);
  });

  it('reports an unreachable registry as unknown lookups, not a crash', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const offline = await createTestApp({ env: { NPM_REGISTRY_URL: closed } });
    try {
      const offlineAdmin = await registerAndLogin(offline, 'deps-offline');
      await setPlatformAdmin(offline, offlineAdmin.userId);
      const headers = bearer(offlineAdmin.tokens.access_token);
      await offline.inject({ method: 'POST', url: '/api/v1/admin/dependencies/check', headers });
      await offline.app.get(OutboxRelay).flush();
      await offline.app.get<JobQueue, InProcessJobQueue>(JobQueue).drain();
      const report = (
        await offline.inject({ method: 'GET', url: '/api/v1/admin/dependencies', headers })
      ).json<Report>();
      expect(report.registry).toBe(closed);
      expect(report.summary.total).toBeGreaterThan(10);
      expect(report.summary.unknown).toBe(report.summary.total);
      expect(report.packages[0]?.error).toMatch(/fetch failed|ECONNREFUSED/);
    } finally {
      await offline.close();
    }
  });

  it(`keeps the latest ${KEPT_DEPENDENCY_REPORTS} reports`, async () => {
    const transactions = t.app.get(TenantTransaction);
    await transactions.runAsSystem(async (m) => {
      for (let i = 0; i < KEPT_DEPENDENCY_REPORTS; i++) {
        await m.insert(DependencyReport, {
          id: newId(),
          registry: 'old',
          durationMs: 1,
          summary: { total: 0, 'up-to-date': 0, patch: 0, minor: 0, major: 0, unknown: 0 },
          packages: [],
          createdAt: new Date(Date.now() - 86_400_000 * (i + 1)),
        });
      }
    });
    await runCheck();
    const count = await transactions.runAsSystem((m) => m.count(DependencyReport));
    expect(count).toBe(KEPT_DEPENDENCY_REPORTS);
  });
});

describe('classify', () => {
  it.each([
    ['1.2.3', '1.2.3', 'up-to-date'],
    ['1.3.0', '1.2.9', 'up-to-date'],
    ['1.2.3', '1.2.4', 'patch'],
    ['1.2.3', '1.3.0', 'minor'],
    ['1.2.3', '2.0.0', 'major'],
    ['1.2.3-beta.1', '1.2.3', 'patch'],
    ['0.9.0', '1.0.0-rc.1', 'major'],
    ['not-a-version', '1.0.0', 'unknown'],
  ])('%s against latest %s is %s', (from, latest, status) => {
    expect(classify(from, latest)).toBe(status);
  });
});
