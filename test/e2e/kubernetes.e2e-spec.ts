import { configSchema } from '@app/config';
import { createTestApp, type TestApp } from '@app/testing';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } };
interface Container {
  name: string;
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: { httpGet?: { path: string; port?: string | number } };
  readinessProbe?: { httpGet?: { path: string; port?: string | number } };
  startupProbe?: { httpGet?: { path: string; port?: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean };
  containers: Container[];
}

const ROOT = join(__dirname, '..', '..');
const BASE = join(ROOT, 'deploy/k8s/base');
const OVERLAY = join(ROOT, 'deploy/k8s/overlays/production');

function load(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => doc.toJSON() as K8sObject);
}

function kustomization(dir: string): { resources?: string[]; patches?: Array<{ path: string }> } {
  return load(join(dir, 'kustomization.yaml'))[0] as never;
}

/** The strategic merge our overlay patches need: objects recursively, lists of named items by name. */
function merge(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch)) {
    const named = (item: unknown): item is { name: string } =>
      typeof item === 'object' && item !== null && 'name' in item;
    if (!patch.every(named)) return patch;
    const result: unknown[] = [...(base as unknown[])];
    for (const item of patch) {
      const index = result.findIndex((candidate) => named(candidate) && candidate.name === item.name);
      if (index >= 0) result[index] = merge(result[index], item);
      else result.push(item);
    }
    return result;
  }
  if (base && patch && typeof base === 'object' && typeof patch === 'object') {
    const result: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [key, value] of Object.entries(patch)) result[key] = merge(result[key], value);
    return result;
  }
  return patch;
}

function validate(objects: K8sObject[]): Array<{ kind: string; name: string; errors: string[] }> {
  const run = spawnSync(process.execPath, [join(ROOT, 'test/support/validate-k8s.mjs')], {
    input: JSON.stringify(objects),
    encoding: 'utf8',
    cwd: ROOT,
  });
  if (run.status !== 0) throw new Error(`validator failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Array<{ kind: string; name: string; errors: string[] }>;
}

const podSpec = (object: K8sObject): PodSpec | undefined => {
  const spec = object.spec as { template?: { spec: PodSpec } } | undefined;
  return spec?.template?.spec;
};

describe('Kubernetes manifests (deploy/k8s)', () => {
  const base = (kustomization(BASE).resources ?? []).flatMap((file) => load(join(BASE, file)));
  const production = base.map((object) => {
    let merged: unknown = object;
    for (const { path } of kustomization(OVERLAY).patches ?? []) {
      for (const patch of load(join(OVERLAY, path))) {
        if (patch.kind === object.kind && patch.metadata.name === object.metadata.name) merged = merge(merged, patch);
      }
    }
    return merged as K8sObject;
  });
  const deployments = production.filter((object) => object.kind === 'Deployment');

  it('holds every kind the platform needs', () => {
    expect(new Set(base.map((object) => object.kind))).toEqual(
      new Set([
        'ServiceAccount',
        'ConfigMap',
        'Secret',
        'Job',
        'Deployment',
        'Service',
        'HorizontalPodAutoscaler',
        'PodDisruptionBudget',
        'Ingress',
        'NetworkPolicy',
      ]),
    );
  });

  it('validates against the Kubernetes schemas, base and production overlay', () => {
    const results = validate([...base, ...production]);
    expect(results.filter((result) => result.errors.length > 0)).toEqual([]);
    expect(results).toHaveLength(base.length * 2);
  });

  it('catches an invalid manifest (the validator is not a rubber stamp)', () => {
    const broken = { ...deployments[0], spec: { replicas: 'two', selector: 'everything' } } as unknown as K8sObject;
    expect(validate([broken])[0]?.errors.length).toBeGreaterThan(0);
  });

  it('runs hardened pods: non-root, read-only root filesystem, no privilege escalation, memory limits', () => {
    for (const object of [...deployments, ...production.filter((o) => o.kind === 'Job')]) {
      const spec = podSpec(object);
      expect({ name: object.metadata.name, nonRoot: spec?.securityContext?.runAsNonRoot }).toEqual({
        name: object.metadata.name,
        nonRoot: true,
      });
      for (const container of spec?.containers ?? []) {
        expect({ container: container.name, readOnly: container.securityContext?.readOnlyRootFilesystem }).toEqual({
          container: container.name,
          readOnly: true,
        });
        expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
        expect(container.resources?.limits?.memory).toBeDefined();
        expect(container.resources?.requests?.cpu).toBeDefined();
      }
    }
    const api = deployments.find((object) => object.metadata.name === 'saas-backend-api');
    expect((api?.spec as { replicas: number }).replicas).toBeGreaterThanOrEqual(2);
  });

  it("sizes the api's V8 heap below its memory limit, in the base and the production overlay", () => {
    const mebibytes = (quantity: string) => Number(/^(\d+)Mi$/.exec(quantity)?.[1] ?? NaN);
    for (const manifests of [base, production]) {
      const api = manifests.find(
        (object) => object.kind === 'Deployment' && object.metadata.name === 'saas-backend-api',
      );
      const container = podSpec(api as K8sObject)?.containers.find((candidate) => candidate.name === 'api');
      const options = container?.env?.find((variable) => variable.name === 'NODE_OPTIONS')?.value ?? '';
      const heap = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1] ?? NaN);
      const limit = mebibytes(container?.resources?.limits?.memory ?? '');
      // Room beside the heap for code and native memory, argon2's buffers (4 × 19 MiB at the
      // default concurrency) and the password-check thread (about 45 MB).
      expect({ heap, limit, fits: heap > 0 && heap <= limit - 160 }).toEqual({ heap, limit, fits: true });
    }
  });

  it('runs the built entry points', () => {
    for (const object of [...deployments, ...production.filter((o) => o.kind === 'Job')]) {
      for (const container of podSpec(object)?.containers ?? []) {
        const script = container.args?.[1] ?? '';
        expect(script).toMatch(/^dist\/apps\/(api|worker)\/apps\/(api|worker)\/src\/main\.js$/);
        expect(existsSync(join(ROOT, 'apps', script.split('/')[4] ?? '', 'src/main.ts'))).toBe(true);
      }
    }
  });

  it('gives the drain room: grace period > preStop pause + SHUTDOWN_TIMEOUT_MS', () => {
    const config = base.find((object) => object.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
    const drainSeconds = Number(config.data.SHUTDOWN_TIMEOUT_MS) / 1000;
    const api = deployments.find((object) => object.metadata.name === 'saas-backend-api');
    const spec = podSpec(api as K8sObject);
    const preStop = spec?.containers[0]?.lifecycle?.preStop?.exec?.command.join(' ') ?? '';
    const pauseSeconds = Number(/setTimeout\(\(\) => \{\}, (\d+)\)/.exec(preStop)?.[1] ?? NaN) / 1000;
    expect(pauseSeconds).toBeGreaterThan(0);
    expect(spec?.terminationGracePeriodSeconds).toBeGreaterThan(pauseSeconds + drainSeconds);
  });

  it('only sets variables the configuration knows', () => {
    const known = new Set(Object.keys(configSchema.shape));
    const set = base
      .filter((object) => object.kind === 'ConfigMap' || object.kind === 'Secret')
      .flatMap((object) => Object.keys((object.data ?? object.stringData ?? {}) as Record<string, string>));
    expect(set.filter((name) => !known.has(name))).toEqual([]);
  });

  describe('probes', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(async () => {
      await t.close();
    });

    it('point at real routes that answer 200', async () => {
      const paths = deployments
        .filter((object) => !object.metadata?.name?.endsWith('-worker'))
        .flatMap((object) =>
          (podSpec(object)?.containers ?? []).flatMap((container) =>
            [container.livenessProbe, container.readinessProbe, container.startupProbe].flatMap((probe) =>
              probe?.httpGet ? [probe.httpGet.path] : [],
            ),
          ),
        );
      expect(new Set(paths)).toEqual(new Set(['/health', '/api/v1/health']));
      for (const path of paths)
        expect({ path, status: (await t.inject({ method: 'GET', url: path })).statusCode }).toEqual({
          path,
          status: 200,
        });
    });

    it('probe the worker on its health listener (WORKER_HEALTH_PORT; the listener is tested in test:services)', () => {
      const worker = deployments.find((object) => object.metadata?.name?.endsWith('-worker'));
      const container = podSpec(worker!)?.containers[0];
      const port = Number(
        (production.find((object) => object.kind === 'ConfigMap')?.data as Record<string, string> | undefined)
          ?.WORKER_HEALTH_PORT,
      );
      expect(port).toBeGreaterThan(0);
      const named = container?.ports?.find((p) => p.name === 'health');
      expect(named?.containerPort).toBe(port);
      for (const probe of [container?.livenessProbe, container?.readinessProbe]) {
        expect(probe?.httpGet).toEqual({ path: '/health', port: 'health' });
      }
    });
  });
});
