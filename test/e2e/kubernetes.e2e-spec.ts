import { AppConfig, ConfigError, configSchema } from '@app/config';
import { createTestApp, type TestApp } from '@app/testing';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}
interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  envFrom?: Array<{ secretRef?: { name: string }; configMapRef?: { name: string } }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  ports?: Array<{ name?: string; containerPort: number; hostPort?: number }>;
  livenessProbe?: { httpGet?: { path: string; port?: string | number } };
  readinessProbe?: { httpGet?: { path: string; port?: string | number } };
  startupProbe?: { httpGet?: { path: string; port?: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Array<Record<string, unknown> & { name: string }>;
}
interface Kustomization {
  namespace?: string;
  resources?: string[];
  patches?: Array<{ path: string }>;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
  secretGenerator?: Array<{ name: string; envs?: string[]; files?: string[]; literals?: string[] }>;
}

const ROOT = join(__dirname, '..', '..');
const BASE = join(ROOT, 'deploy/k8s/base');
const OVERLAY = join(ROOT, 'deploy/k8s/overlays/production');
const EXAMPLES = join(ROOT, 'deploy/k8s/examples');

/** What a template leaves for a person to replace (the markers AppConfig refuses in production). */
const PLACEHOLDER = /change[-_ .]?me|replace[-_ .]?(?:me|with)|<(?:[a-z][a-z0-9 _.-]{2,}|\.\.\.|…)>/i;
/** Kinds without a namespace among those we ship. */
const CLUSTER_SCOPED = new Set(['Namespace']);

function load(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => doc.toJSON() as K8sObject);
}

function kustomization(dir: string): Kustomization {
  return load(join(dir, 'kustomization.yaml'))[0] as Kustomization;
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

const podSpec = (object: K8sObject): PodSpec | undefined => {
  const spec = object.spec as { template?: { spec: PodSpec } } | undefined;
  return spec?.template?.spec;
};

const containersOf = (object: K8sObject): Container[] => [
  ...(podSpec(object)?.initContainers ?? []),
  ...(podSpec(object)?.containers ?? []),
];

/**
 * What `kubectl apply -k <dir>` sends, for the parts of kustomize we use: the resources (files, or
 * directories built the same way), then the patches, the namespace and the image tags. (Generators
 * are not modelled: the base and the overlay must not have any, a test below checks.)
 */
function build(dir: string): K8sObject[] {
  const { resources = [], patches = [], namespace, images = [] } = kustomization(dir);
  let objects = resources.flatMap((resource) => {
    const path = join(dir, resource);
    return statSync(path).isDirectory() ? build(path) : load(path);
  });
  for (const { path } of patches) {
    for (const patch of load(join(dir, path))) {
      objects = objects.map((object) =>
        object.kind === patch.kind && object.metadata.name === patch.metadata.name
          ? (merge(object, patch) as K8sObject)
          : object,
      );
    }
  }
  if (namespace) {
    objects = objects.map((object) =>
      CLUSTER_SCOPED.has(object.kind) ? object : { ...object, metadata: { ...object.metadata, namespace } },
    );
  }
  return objects.map((object) => {
    const spec = podSpec(object);
    if (!spec || images.length === 0) return object;
    const retag = (container: Container): Container => {
      const [name = '', tag] = (container.image ?? '').split(':');
      const image = images.find((candidate) => candidate.name === name);
      return image ? { ...container, image: `${image.newName ?? name}:${image.newTag ?? tag}` } : container;
    };
    return merge(object, { spec: { template: { spec: { containers: spec.containers.map(retag) } } } }) as K8sObject;
  });
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

/** Every string in a value, at any depth. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

/** KEY=value lines of an env file (comments and blank lines skipped). */
function envFileKeys(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.slice(0, line.indexOf('=')));
}

const configData = (objects: K8sObject[]): Record<string, string> =>
  (objects.find((object) => object.kind === 'ConfigMap')?.data ?? {}) as Record<string, string>;

describe('Kubernetes manifests (deploy/k8s)', () => {
  const base = build(BASE);
  const production = build(OVERLAY);
  const overlay = kustomization(OVERLAY);
  const deployments = production.filter((object) => object.kind === 'Deployment');
  const workloads = production.filter((object) => object.kind === 'Deployment' || object.kind === 'Job');
  // The Secret every workload reads, then the one only the migrate Job reads (the schema owner).
  const [example, migrationExample] = load(join(EXAMPLES, 'secret.example.yaml')) as Array<
    K8sObject & { stringData: Record<string, string> }
  >;
  if (!example || !migrationExample) throw new Error('secret.example.yaml must hold the two Secrets');
  const exampleKeys = Object.keys(example.stringData).sort();
  const migrationKeys = Object.keys(migrationExample.stringData).sort();

  it('holds every kind the platform needs', () => {
    const kinds = [
      'ServiceAccount',
      'ConfigMap',
      'Job',
      'Deployment',
      'Service',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'Ingress',
      'NetworkPolicy',
    ];
    expect(new Set(base.map((object) => object.kind))).toEqual(new Set(kinds));
    expect(new Set(production.map((object) => object.kind))).toEqual(new Set([...kinds, 'Namespace']));
  });

  it('validates against the Kubernetes schemas, base and production overlay', () => {
    const results = validate([...base, ...production]);
    expect(results.filter((result) => result.errors.length > 0)).toEqual([]);
    expect(results).toHaveLength(base.length + production.length);
  });

  describe('the Gateway API variant (deploy/k8s/components/gateway-api)', () => {
    const component = join(ROOT, 'deploy/k8s/components/gateway-api');
    const spec = load(join(component, 'kustomization.yaml'))[0] as unknown as {
      kind: string;
      resources: string[];
      patches: Array<{ path: string }>;
    };
    const route = load(join(component, 'httproute.yaml'))[0] as K8sObject & {
      spec: {
        hostnames: string[];
        parentRefs: Array<{ kind: string; name: string }>;
        rules: Array<{ backendRefs: Array<{ name: string; port: number }> }>;
      };
    };
    const ingress = production.find((object) => object.kind === 'Ingress') as K8sObject & {
      spec: { rules: Array<{ host: string }> };
    };
    const service = production.find((object) => object.kind === 'Service') as K8sObject & {
      spec: { ports: Array<{ name: string; port: number }> };
    };

    it('is a component that swaps the Ingress for an HTTPRoute valid against the Gateway API schema', () => {
      expect(spec.kind).toBe('Component');
      expect(spec.resources).toEqual(['httproute.yaml']);
      const [deletion] = spec.patches.flatMap((patch) => load(join(component, patch.path)));
      expect(deletion).toMatchObject({ $patch: 'delete', kind: 'Ingress', metadata: { name: ingress.metadata.name } });
      expect(validate([route])).toEqual([{ kind: 'HTTPRoute', name: 'saas-backend-api', errors: [] }]);
      const broken = { ...route, spec: { ...route.spec, hostnames: 'api.example.com' } } as K8sObject;
      expect(validate([broken])[0]?.errors.length).toBeGreaterThan(0);
    });

    it('routes what the Ingress routes: the same host, to the api Service port', () => {
      expect(route.spec.hostnames).toEqual(ingress.spec.rules.map((rule) => rule.host));
      expect(route.spec.parentRefs.map((ref) => ref.kind)).toEqual(['Gateway']);
      const http = service.spec.ports.find((port) => port.name === 'http');
      expect(route.spec.rules.flatMap((rule) => rule.backendRefs)).toEqual([
        { name: service.metadata.name, port: http?.port },
      ]);
    });
  });

  describe('the Prometheus Operator component (deploy/k8s/components/prometheus-operator)', () => {
    const component = join(ROOT, 'deploy/k8s/components/prometheus-operator');
    const spec = load(join(component, 'kustomization.yaml'))[0] as unknown as { kind: string; resources: string[] };
    const objects = spec.resources.flatMap((file) => load(join(component, file)));
    const byKind = (kind: string) =>
      objects.find((object) => object.kind === kind) as K8sObject & { spec: Record<string, unknown> };
    it('holds a ServiceMonitor, a PodMonitor and a PrometheusRule, valid against their schemas', () => {
      expect(spec.kind).toBe('Component');
      expect(objects.map((object) => object.kind).sort()).toEqual(['PodMonitor', 'PrometheusRule', 'ServiceMonitor']);
      expect(validate(objects).filter((result) => result.errors.length > 0)).toEqual([]);
      const broken = { ...byKind('ServiceMonitor'), spec: { endpoints: 'all' } } as K8sObject;
      expect(validate([broken])[0]?.errors.length).toBeGreaterThan(0);
    });

    it('scrapes the ports the workloads expose, selected by their labels', () => {
      const service = production.find((object) => object.kind === 'Service') as K8sObject & {
        spec: { selector: Record<string, string>; ports: Array<{ name: string }> };
      };
      const monitor = byKind('ServiceMonitor').spec as {
        selector: { matchLabels: Record<string, string> };
        endpoints: Array<{ port: string }>;
      };
      expect(service.metadata.labels).toMatchObject(monitor.selector.matchLabels);
      expect(service.spec.ports.map((port) => port.name)).toEqual(
        expect.arrayContaining(monitor.endpoints.map((e) => e.port)),
      );
      const worker = production.find(
        (object) => object.kind === 'Deployment' && object.metadata.name === 'saas-backend-worker',
      ) as K8sObject & { spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } };
      const podMonitor = byKind('PodMonitor').spec as {
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: Array<{ port: string }>;
      };
      expect(worker.spec.template.metadata.labels).toMatchObject(podMonitor.selector.matchLabels);
      const workerPorts = worker.spec.template.spec.containers.flatMap((container) => container.ports ?? []);
      expect(workerPorts.map((port) => port.name)).toEqual(
        expect.arrayContaining(podMonitor.podMetricsEndpoints.map((endpoint) => endpoint.port)),
      );
    });

    it('alerts with exactly the rules of deploy/prometheus/alerts.yaml', () => {
      const file = load(join(ROOT, 'deploy/prometheus/alerts.yaml'))[0] as unknown as { groups: unknown };
      expect(byKind('PrometheusRule').spec.groups).toEqual(file.groups);
    });
  });

  describe('the narrowed egress (deploy/k8s/components/narrow-egress)', () => {
    const component = join(ROOT, 'deploy/k8s/components/narrow-egress');
    const patch = load(join(component, 'egress.yaml'))[0] as K8sObject & {
      spec: {
        egress: Array<{
          to?: Array<{ ipBlock?: { cidr: string; except?: string[] } }>;
          ports: Array<{ port: number }>;
        }>;
      };
    };
    const base = production.find((object) => object.kind === 'NetworkPolicy') as typeof patch;

    it('patches the api NetworkPolicy with a valid egress list', () => {
      expect(load(join(component, 'kustomization.yaml'))[0]).toMatchObject({
        kind: 'Component',
        patches: [{ path: 'egress.yaml' }],
      });
      expect(patch.metadata.name).toBe(base.metadata.name);
      expect(validate([patch])[0]?.errors).toEqual([]);
    });

    it('keeps every port the base allows, and sends HTTPS and SMTP to public addresses only', () => {
      const ports = (policy: typeof patch) =>
        [...new Set(policy.spec.egress.flatMap((rule) => rule.ports.map((p) => p.port)))].sort();
      expect(ports(patch)).toEqual(ports(base));
      const outward = patch.spec.egress.filter((rule) => rule.ports.some((p) => [443, 465, 587].includes(p.port)));
      expect(outward).toHaveLength(1);
      const except = outward[0]?.to?.[0]?.ipBlock?.except ?? [];
      for (const privateRange of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'])
        expect(except).toContain(privateRange);
    });
  });

  describe('autoscaling the workers with KEDA (deploy/k8s/components/keda)', () => {
    const component = join(ROOT, 'deploy/k8s/components/keda');
    const spec = load(join(component, 'kustomization.yaml'))[0] as unknown as {
      kind: string;
      resources: string[];
      patches: Array<{ path: string }>;
    };
    const objects = spec.resources.flatMap((file) => load(join(component, file)));
    const patched = production.map((object) => {
      const patch = spec.patches
        .flatMap(({ path }) => load(join(component, path)))
        .find((candidate) => candidate.kind === object.kind && candidate.metadata.name === object.metadata.name);
      return patch ? (merge(object, patch) as K8sObject) : object;
    });
    const all = [...patched, ...objects];
    type ScaledObject = K8sObject & {
      spec: {
        scaleTargetRef: { name: string };
        minReplicaCount: number;
        triggers: Array<{ type: string; metadata: { listName: string }; authenticationRef: { name: string } }>;
      };
    };
    const scaledObjects = objects.filter((object) => object.kind === 'ScaledObject') as ScaledObject[];
    const deployment = (name: string) =>
      all.find((object) => object.kind === 'Deployment' && object.metadata.name === name) as
        | (K8sObject & { spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } })
        | undefined;
    const queuesOf = (name: string) =>
      containersOf(deployment(name) as K8sObject)
        .flatMap((container) => container.env ?? [])
        .find((variable) => variable.name === 'WORKER_QUEUES')
        ?.value?.split(',');

    it('is a component of valid ScaledObjects, a TriggerAuthentication and an LLM-only worker', () => {
      expect(spec.kind).toBe('Component');
      expect(objects.map((object) => object.kind).sort()).toEqual([
        'Deployment',
        'ScaledObject',
        'ScaledObject',
        'TriggerAuthentication',
      ]);
      const changed = all.filter(
        (object) => object.kind === 'Deployment' && object.metadata.name.startsWith('saas-backend-worker'),
      );
      expect(validate([...objects, ...changed]).filter((result) => result.errors.length > 0)).toEqual([]);
      const broken = { ...scaledObjects[0], spec: { triggers: 'redis' } } as unknown as K8sObject;
      expect(validate([broken])[0]?.errors.length).toBeGreaterThan(0);
    });

    it('scales each worker Deployment on the wait lists of exactly the queues it takes', () => {
      expect(scaledObjects.map((object) => object.spec.scaleTargetRef.name).sort()).toEqual([
        'saas-backend-worker',
        'saas-backend-worker-llm',
      ]);
      const authentication = objects.find((object) => object.kind === 'TriggerAuthentication');
      for (const scaled of scaledObjects) {
        const target = scaled.spec.scaleTargetRef.name;
        const watched = scaled.spec.triggers.map((trigger) => /^saas:(.+):wait$/.exec(trigger.metadata.listName)?.[1]);
        expect({ target, watched: watched.sort() }).toEqual({ target, watched: queuesOf(target)?.sort() });
        for (const trigger of scaled.spec.triggers) {
          expect(trigger.type).toBe('redis');
          expect(trigger.authenticationRef.name).toBe(authentication?.metadata.name);
        }
      }
      // No queue is taken twice, none is dropped (the services test ties the names to BullMQ's keys).
      const taken = scaledObjects.flatMap((object) => queuesOf(object.spec.scaleTargetRef.name) ?? []);
      expect(taken.sort()).toEqual(['default', 'llm', 'webhooks']);
      // The always-on worker keeps schedules and the outbox relay going; the LLM one may sleep.
      const min = Object.fromEntries(scaledObjects.map((o) => [o.spec.scaleTargetRef.name, o.spec.minReplicaCount]));
      expect(min).toEqual({ 'saas-backend-worker': 2, 'saas-backend-worker-llm': 0 });
    });

    it('keeps the LLM worker equal to the base worker apart from its name, label, queues and count', () => {
      const strip = (object: K8sObject | undefined) => {
        const copy = JSON.parse(JSON.stringify(object)) as K8sObject & {
          spec: { replicas?: number; template: { spec: PodSpec } };
        };
        delete copy.metadata.namespace;
        delete copy.spec.replicas;
        for (const container of copy.spec.template.spec.containers) delete container.env;
        return JSON.stringify(copy)
          .replaceAll('saas-backend-worker-llm', 'saas-backend-worker')
          .replaceAll('"worker-llm"', '"worker"');
      };
      const baseWorker = base.find((object) => object.metadata.name === 'saas-backend-worker');
      expect(strip(objects.find((object) => object.kind === 'Deployment'))).toEqual(strip(baseWorker));
      // Scraped by the PodMonitor, and let through by the NetworkPolicy, like the base worker.
      const llm = deployment('saas-backend-worker-llm');
      const podMonitor = load(
        join(ROOT, 'deploy/k8s/components/prometheus-operator/podmonitor.yaml'),
      )[0] as K8sObject & {
        spec: { selector: { matchLabels: Record<string, string> } };
      };
      expect(llm?.spec.template.metadata.labels).toMatchObject(podMonitor.spec.selector.matchLabels);
      const policy = production.find((object) => object.kind === 'NetworkPolicy') as K8sObject & {
        spec: { podSelector: { matchLabels: Record<string, string> } };
      };
      expect(llm?.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
      // Its selector does not overlap the base worker's (each Deployment owns only its pods).
      const selectorOf = (name: string) =>
        (deployment(name) as unknown as { spec: { selector: { matchLabels: Record<string, string> } } }).spec.selector
          .matchLabels;
      expect(selectorOf('saas-backend-worker-llm')).not.toEqual(selectorOf('saas-backend-worker'));
      expect(deployment('saas-backend-worker')?.spec.template.metadata.labels).not.toMatchObject(
        selectorOf('saas-backend-worker-llm'),
      );
    });
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
      const old = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1] ?? NaN);
      // Pinned: Node 24 derives the young generation from the old one, too small at these sizes.
      const semi = Number(/--max-semi-space-size=(\d+)/.exec(options)?.[1] ?? NaN);
      const heap = old + 3 * semi;
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

  it('pins the production image to the overlay tag', () => {
    const [image] = overlay.images ?? [];
    for (const object of workloads) {
      for (const container of containersOf(object)) expect(container.image).toBe(`${image?.name}:${image?.newTag}`);
    }
    expect(image?.newTag).not.toBe('latest');
  });

  describe('the Secret', () => {
    it('is applied by neither the base nor the overlay, and nothing they apply holds a placeholder', () => {
      for (const dir of [BASE, OVERLAY]) expect(kustomization(dir).secretGenerator).toBeUndefined();
      for (const manifests of [base, production]) {
        expect(manifests.filter((object) => object.kind === 'Secret').map((object) => object.metadata.name)).toEqual(
          [],
        );
        expect(stringsOf(manifests).filter((value) => PLACEHOLDER.test(value))).toEqual([]);
      }
    });

    it('is read by name by every workload, only for keys the example documents', () => {
      const secretNames = new Set<string>();
      for (const object of workloads) {
        const containers = containersOf(object);
        const fromEnv = containers.flatMap((container) =>
          (container.envFrom ?? []).flatMap((source) => (source.secretRef ? [source.secretRef.name] : [])),
        );
        const keyRefs = containers.flatMap((container) =>
          (container.env ?? []).flatMap((variable) =>
            variable.valueFrom?.secretKeyRef ? [variable.valueFrom.secretKeyRef] : [],
          ),
        );
        // Every workload gets its secrets one way or the other.
        expect({ workload: object.metadata.name, reads: fromEnv.length + keyRefs.length > 0 }).toEqual({
          workload: object.metadata.name,
          reads: true,
        });
        for (const name of fromEnv) secretNames.add(name);
        for (const ref of keyRefs) {
          secretNames.add(ref.name);
          expect({ workload: object.metadata.name, key: ref.key, documented: exampleKeys.includes(ref.key) }).toEqual({
            workload: object.metadata.name,
            key: ref.key,
            documented: true,
          });
        }
        for (const volume of podSpec(object)?.volumes ?? []) {
          const secret = volume.secret as { secretName?: string } | undefined;
          if (secret?.secretName) secretNames.add(secret.secretName);
        }
      }
      expect([...secretNames].sort()).toEqual([example.metadata.name, migrationExample.metadata.name].sort());
      expect(example.metadata.namespace).toBe(overlay.namespace);
      expect(migrationExample.metadata.namespace).toBe(overlay.namespace);
      // The owner's URL reaches the migrate Job and nothing else.
      const readers = workloads
        .filter((object) =>
          containersOf(object).some((container) =>
            (container.envFrom ?? []).some((source) => source.secretRef?.name === migrationExample.metadata.name),
          ),
        )
        .map((object) => `${object.kind}/${object.metadata.name}`);
      expect(readers).toEqual(['Job/saas-backend-migrate']);
      expect(migrationKeys).toEqual(['DATABASE_MIGRATION_URL']);
    });

    it('is documented the same way by each example: by hand, secretGenerator, External Secrets', () => {
      // Every example value is a placeholder: no real secret was ever pasted into one.
      for (const [key, value] of Object.entries({ ...example.stringData, ...migrationExample.stringData })) {
        expect({ key, placeholder: PLACEHOLDER.test(value) }).toEqual({ key, placeholder: true });
      }
      // kubectl create secret generic … --from-literal=KEY=… in docs/kubernetes.md
      const documented = [
        ...readFileSync(join(ROOT, 'docs/kubernetes.md'), 'utf8').matchAll(/--from-literal=([A-Z0-9_]+)=/g),
      ].map((match) => match[1] ?? '');
      expect([...exampleKeys, ...migrationKeys].filter((key) => !documented.includes(key))).toEqual([]);
      expect(documented.filter((key) => !(key in configSchema.shape))).toEqual([]);
      // secretGenerator: reads a git-ignored env file whose example has the same keys.
      const generatorDir = join(EXAMPLES, 'secret-generator');
      const generator = kustomization(generatorDir);
      expect(generator.resources).toEqual(['../../overlays/production']);
      const keysOf = { [example.metadata.name]: exampleKeys, [migrationExample.metadata.name]: migrationKeys };
      expect(generator.secretGenerator?.map((entry) => entry.name)).toEqual(Object.keys(keysOf));
      const ignored = readFileSync(join(generatorDir, '.gitignore'), 'utf8').split('\n');
      for (const entry of generator.secretGenerator ?? []) {
        for (const file of entry.envs ?? []) {
          expect({ file, ignored: ignored.includes(file) }).toEqual({ file, ignored: true });
          expect(envFileKeys(join(generatorDir, `${file}.example`)).sort()).toEqual(keysOf[entry.name]);
        }
      }
      // External Secrets Operator: the same targets and keys.
      const externals = load(join(EXAMPLES, 'external-secret.yaml')) as Array<
        K8sObject & { spec: { target: { name: string }; data: Array<{ secretKey: string }> } }
      >;
      expect(externals.map((external) => external.spec.target.name)).toEqual(Object.keys(keysOf));
      for (const external of externals) {
        expect(external.kind).toBe('ExternalSecret');
        expect(external.metadata.namespace).toBe(overlay.namespace);
        expect(external.spec.data.map((entry) => entry.secretKey).sort()).toEqual(keysOf[external.spec.target.name]);
      }
    });

    it("is refused by the app while it holds the example's placeholders, naming each key and no value", () => {
      let error: unknown;
      try {
        AppConfig.fromEnv({ ...configData(production), ...example.stringData, ...migrationExample.stringData });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(
        [...exampleKeys, ...migrationKeys].sort(),
      );
      expect(problems.every((problem) => problem.includes('placeholder'))).toBe(true);
      for (const value of Object.values({ ...example.stringData, ...migrationExample.stringData }))
        expect((error as Error).message).not.toContain(value);
    });

    it('filled in, with the production ConfigMap, makes a valid production configuration without API docs', () => {
      const password = () => randomBytes(18).toString('hex');
      const filled: Record<string, string> = {
        DATABASE_URL: `postgres://app_runtime:${password()}@postgres.internal:5432/app`,
        REDIS_URL: `redis://:${password()}@redis.internal:6379`,
        JWT_SECRET: randomBytes(48).toString('base64'),
        MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        SMTP_URL: `smtps://mailer:${password()}@smtp.example.com:465`,
        METRICS_TOKEN: randomBytes(24).toString('hex'),
      };
      expect(Object.keys(filled).sort()).toEqual(exampleKeys);
      const migration = { DATABASE_MIGRATION_URL: `postgres://app_owner:${password()}@postgres.internal:5432/app` };
      expect(Object.keys(migration)).toEqual(migrationKeys);
      const config = AppConfig.fromEnv({ ...configData(production), ...filled, ...migration });
      expect(config.isProduction).toBe(true);
      expect(config.docsEnabled).toBe(false);
      expect(config.database).toMatchObject({ migrationUrl: migration.DATABASE_MIGRATION_URL, roleCheck: 'refuse' });
    });
  });

  it('creates the namespace the overlay deploys into, with the restricted pod security profile', () => {
    expect(overlay.namespace).toBeDefined();
    const namespaces = production.filter((object) => object.kind === 'Namespace');
    expect(namespaces.map((object) => object.metadata.name)).toEqual([overlay.namespace]);
    expect(namespaces[0]?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(production.filter((object) => object.metadata.namespace !== overlay.namespace)).toEqual(namespaces);
  });

  it('runs pods the restricted pod security profile admits', () => {
    const allowedVolumes = new Set([
      'configMap',
      'csi',
      'downwardAPI',
      'emptyDir',
      'ephemeral',
      'persistentVolumeClaim',
      'projected',
      'secret',
    ]);
    for (const object of workloads) {
      const spec = podSpec(object) as PodSpec;
      const pod = spec.securityContext ?? {};
      expect({ name: object.metadata.name, host: [spec.hostNetwork, spec.hostPID, spec.hostIPC] }).toEqual({
        name: object.metadata.name,
        host: [undefined, undefined, undefined],
      });
      const volumeTypes = (spec.volumes ?? []).flatMap((volume) => Object.keys(volume).filter((key) => key !== 'name'));
      expect(volumeTypes.filter((type) => !allowedVolumes.has(type))).toEqual([]);
      for (const container of containersOf(object)) {
        const own = container.securityContext ?? {};
        const seen = {
          workload: object.metadata.name,
          container: container.name,
          privileged: own.privileged ?? false,
          allowPrivilegeEscalation: own.allowPrivilegeEscalation,
          dropsAll: own.capabilities?.drop?.includes('ALL') ?? false,
          adds: (own.capabilities?.add ?? []).filter((capability) => capability !== 'NET_BIND_SERVICE'),
          runAsNonRoot: own.runAsNonRoot ?? pod.runAsNonRoot,
          root: (own.runAsUser ?? pod.runAsUser) === 0,
          seccomp: own.seccompProfile?.type ?? pod.seccompProfile?.type,
          hostPorts: (container.ports ?? []).filter((port) => port.hostPort !== undefined),
        };
        expect(seen).toEqual({
          ...seen,
          privileged: false,
          allowPrivilegeEscalation: false,
          dropsAll: true,
          adds: [],
          runAsNonRoot: true,
          root: false,
          seccomp: expect.stringMatching(/^(RuntimeDefault|Localhost)$/) as unknown,
          hostPorts: [],
        });
      }
    }
  });

  it('turns the API docs (/docs, /redoc, /openapi.json) off in production', () => {
    expect(configSchema.shape.DOCS_ENABLED.parse(configData(production).DOCS_ENABLED)).toBe(false);
  });

  it('only sets variables the configuration knows', () => {
    const known = new Set(Object.keys(configSchema.shape));
    const set = [
      ...Object.keys(configData(base)),
      ...Object.keys(configData(production)),
      ...exampleKeys,
      ...migrationKeys,
      ...envFileKeys(join(EXAMPLES, 'secret-generator/secrets.env.example')),
      ...envFileKeys(join(EXAMPLES, 'secret-generator/migration-secrets.env.example')),
    ];
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
      for (const probe of [container?.startupProbe, container?.livenessProbe, container?.readinessProbe]) {
        expect(probe?.httpGet).toEqual({ path: '/health', port: 'health' });
      }
    });

    it("let the monitoring namespace reach both metrics endpoints (the api's METRICS_PORT, the worker's health listener)", () => {
      const config = configData(production);
      const policy = production.find((object) => object.kind === 'NetworkPolicy') as
        | (K8sObject & {
            spec: {
              ingress: Array<{
                from?: Array<{ namespaceSelector?: { matchLabels?: Record<string, string> } }>;
                ports?: Array<{ port: number }>;
              }>;
            };
          })
        | undefined;
      const fromMonitoring = (policy?.spec.ingress ?? [])
        .filter((rule) =>
          (rule.from ?? []).some(
            (peer) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring',
          ),
        )
        .flatMap((rule) => (rule.ports ?? []).map((entry) => entry.port));
      expect(fromMonitoring).toEqual(
        expect.arrayContaining([Number(config.METRICS_PORT), Number(config.WORKER_HEALTH_PORT)]),
      );
    });
  });
});
