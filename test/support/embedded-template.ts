import { writeMigratedDataDir, writeMigratedSnapshot } from '@app/database';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CACHE = join(ROOT, 'node_modules', '.cache', 'saas-tests');

/** What the archive depends on: every file under migrations/, how it is applied, and the PGlite build. */
function cacheKey(): string {
  const hash = createHash('sha256');
  const sources = [
    ...readdirSync(join(ROOT, 'migrations'), { recursive: true, encoding: 'utf8' })
      .map((name) => join('migrations', name))
      .filter((name) => name.endsWith('.ts'))
      .sort(),
    'libs/database/src/data-source.factory.ts',
    'libs/database/src/embedded-snapshot.ts',
    'libs/database/src/embedded-postgres.ts',
    'node_modules/@electric-sql/pglite/package.json',
  ];
  for (const name of sources)
    hash
      .update(name)
      .update('\0')
      .update(readFileSync(join(ROOT, name)))
      .update('\0');
  return hash.digest('hex').slice(0, 20);
}

/** Whether the process that wrote the lock file is gone (so its lock can be taken over). */
function lockIsStale(lock: string): boolean {
  let text: string;
  try {
    text = readFileSync(lock, 'utf8');
  } catch {
    return false; // gone already
  }
  const pid = Number(text);
  // Empty: its maker is between creating it and writing its pid (or died right there, long ago).
  if (!text) return Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 30_000;
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * The embedded-database counterpart of the services run's template database: a freshly migrated
 * PGlite per set of migrations, made by the first test file that needs it (the others wait on a
 * lock file holding its maker's pid) and kept in node_modules/.cache. A changed migration changes
 * the key, so a stale one is never used. Two forms:
 * - a data directory (`embeddedTemplateDir`): each e2e file's database is a copy of it, opened
 *   where it lies, as the embedded default (EMBEDDED_DB_PATH=./.data/pglite) is;
 * - an archive (`embeddedTemplate`) that an in-memory database (EMBEDDED_DB_PATH=memory://)
 *   starts from with EMBEDDED_DB_TEMPLATE.
 */
export function embeddedTemplate(): Promise<string> {
  return cached(`pglite-${cacheKey()}.tar`, writeMigratedSnapshot);
}

export function embeddedTemplateDir(): Promise<string> {
  return cached(`pglite-${cacheKey()}`, writeMigratedDataDir);
}

async function cached(name: string, make: (path: string) => Promise<unknown>): Promise<string> {
  const file = join(CACHE, name);
  if (existsSync(file)) return file;
  mkdirSync(CACHE, { recursive: true });
  const lock = `${file}.lock`;
  for (;;) {
    let fd: number;
    try {
      fd = openSync(lock, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Another test file is making it: wait for it, or take over from a maker that died.
      if (existsSync(file)) return file;
      if (lockIsStale(lock)) rmSync(lock, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    try {
      writeSync(fd, String(process.pid));
      closeSync(fd);
      if (!existsSync(file)) await make(file);
      return file;
    } finally {
      rmSync(lock, { force: true });
    }
  }
}
