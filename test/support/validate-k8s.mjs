// Validates Kubernetes objects against the official OpenAPI schemas bundled in `kubernetes-models`,
// offline. Run as its own process (the package is ESM-only): reads a JSON array of objects on stdin,
// prints a JSON array of `{ kind, name, errors }` (errors empty when valid).
const input = await new Promise((resolve) => {
  let data = '';
  process.stdin.on('data', (chunk) => (data += chunk));
  process.stdin.on('end', () => resolve(data));
});
const objects = JSON.parse(input);
const results = [];
for (const object of objects) {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : [null, object.apiVersion];
  // Gateway API, Prometheus Operator and KEDA kinds come from their own packages of the same family.
  const path =
    group === 'gateway.networking.k8s.io'
      ? `@kubernetes-models/gateway-api/${group}/${version}/${object.kind}`
      : group === 'monitoring.coreos.com'
        ? `@kubernetes-models/prometheus-operator/${group}/${version}/${object.kind}`
        : group === 'keda.sh'
          ? `@kubernetes-models/keda/${group}/${version}/${object.kind}`
          : group
            ? `kubernetes-models/${group}/${version}/${object.kind}`
            : `kubernetes-models/${version}/${object.kind}`;
  const result = { kind: object.kind, name: object.metadata?.name ?? null, errors: [] };
  try {
    const module = await import(path);
    const Model = module[object.kind] ?? module.default;
    new Model(object).validate();
  } catch (error) {
    result.errors.push(String(error?.message ?? error).slice(0, 2000));
  }
  results.push(result);
}
process.stdout.write(JSON.stringify(results));
