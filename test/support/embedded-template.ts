import { writeMigratedSnapshot } from '@app/database';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CACHE = join(ROOT, 'node_modules', '.cache', 'saas-tests');
const STALE_LOCK_MS = 120_000;

/** What the archive depends on: every migration's source and the PGlite build. */
function cacheKey(): string {
  const hash = createHash('sha256');
  const dir = join(ROOT, 'migrations');
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.ts')) continue;
    hash
      .update(name)
      .update('\0')
      .update(readFileSync(join(dir, name)))
      .update('\0');
  }
  const pglite = JSON.parse(readFileSync(join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')) as {
    version: string;
  };
  hash.update(pglite.version);
  return hash.digest('hex').slice(0, 20);
}

/**
 * The embedded-database counterpart of the services run's template database: one archive of a
 * freshly migrated PGlite per set of migrations, made by the first test file that needs it (the
 * others wait on a lock file) and kept in node_modules/.cache. Each e2e file's in-memory database
 * starts from it (EMBEDDED_DB_TEMPLATE) instead of running every migration again. A changed
 * migration changes the key, so a stale archive is never used.
 */
export async function embeddedTemplate(): Promise<string> {
  const file = join(CACHE, `pglite-${cacheKey()}.tar`);
  if (existsSync(file)) return file;
  mkdirSync(CACHE, { recursive: true });
  const lock = `${file}.lock`;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      // Another file is making it: wait for the archive, or take over a lock its maker left behind.
      if (existsSync(file)) return file;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) unlinkSync(lock);
      } catch {
        // the lock went away between the two calls
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    try {
      if (!existsSync(file)) await writeMigratedSnapshot(file);
      return file;
    } finally {
      closeSync(fd);
      unlinkSync(lock);
    }
  }
}
