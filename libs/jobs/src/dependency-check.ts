import type { DependencyFinding, DependencyStatus, DependencySummary } from '@app/database';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import semver from 'semver';

const LOOKUP_TIMEOUT_MS = 10_000;
const PARALLEL_LOOKUPS = 8;

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface DependencyCheckResult {
  packages: DependencyFinding[];
  summary: DependencySummary;
}

/** How far `installed` is behind `latest`: the part of the version that moved. */
export function classify(installed: string, latest: string): DependencyStatus {
  if (!semver.valid(installed) || !semver.valid(latest)) return 'unknown';
  if (semver.gte(installed, latest)) return 'up-to-date';
  const moved = semver.diff(installed, latest);
  if (moved === 'major' || moved === 'premajor') return 'major';
  if (moved === 'minor' || moved === 'preminor') return 'minor';
  return 'patch';
}

async function installedVersion(root: string, name: string): Promise<string | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof manifest.version === 'string' ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}

/** The registry's `latest` dist-tag of a package (the abbreviated metadata document, as npm asks for it). */
async function latestVersion(registry: string, name: string): Promise<string> {
  const response = await fetch(`${registry}/${name.replace('/', '%2f')}`, {
    headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8' },
    signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(response.status === 404 ? 'not found in the registry' : `registry answered ${response.status}`);
  }
  const document = (await response.json()) as { 'dist-tags'?: { latest?: unknown } };
  const latest = document['dist-tags']?.latest;
  if (typeof latest !== 'string') throw new Error('the registry names no latest version');
  return latest;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`.slice(0, 300);
  }
  return String(error).slice(0, 300);
}

/**
 * Compares every installed package of the manifest (`package.json` at `manifestPath`) with the
 * registry's latest version. Packages listed but not installed (dev dependencies in a production
 * image) are left out. A lookup that fails is reported as `unknown` with its reason, never thrown.
 */
export async function checkDependencies(manifestPath: string, registry: string): Promise<DependencyCheckResult> {
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
  const root = dirname(manifestPath);
  const listed = [
    ...Object.entries(manifest.dependencies ?? {}).map(([name, wanted]) => ({
      name,
      wanted,
      kind: 'dependency' as const,
    })),
    ...Object.entries(manifest.devDependencies ?? {}).map(([name, wanted]) => ({
      name,
      wanted,
      kind: 'devDependency' as const,
    })),
  ];
  const packages: DependencyFinding[] = [];
  const queue = [...listed];
  const work = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const installed = await installedVersion(root, next.name);
      if (!installed) continue;
      try {
        const latest = await latestVersion(registry, next.name);
        const range = semver.validRange(next.wanted);
        packages.push({
          ...next,
          installed,
          latest,
          status: classify(installed, latest),
          inRange: range && semver.valid(latest) ? semver.satisfies(latest, range) : null,
        });
      } catch (error) {
        packages.push({ ...next, installed, latest: null, status: 'unknown', inRange: null, error: describe(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_LOOKUPS }, work));
  packages.sort((a, b) => a.name.localeCompare(b.name));
  const summary: DependencySummary = {
    total: packages.length,
    'up-to-date': 0,
    patch: 0,
    minor: 0,
    major: 0,
    unknown: 0,
  };
  for (const finding of packages) summary[finding.status]++;
  return { packages, summary };
}
