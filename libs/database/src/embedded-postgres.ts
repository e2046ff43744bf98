import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

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
 * (128 MB) becomes WASM memory the process keeps. Small buffers fit a laptop's data and the tests'.
 * PGlite writes these as the whole postgresql.conf (replacing what initdb wrote), so initdb's own
 * lines come too: the same time zone, locale and text search settings as without the change.
 */
const EMBEDDED_SETTINGS = [
  'shared_buffers=16MB',
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
 * WAL segments of 1 MB instead of 16: initdb leaves about 7 MB of WAL, which is then 7 files rather
 * than one 16 MB file, a difference an in-memory database (and the archive) holds in memory. A
 * directory made before keeps its 16 MB segments (the size is fixed at initdb; both work).
 */
const INITDB_SETTINGS = ['--wal-segsize=1', '-c', 'shared_buffers=16MB', '-c', 'max_connections=10'];

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
    writeFileSync(archive, new Uint8Array(await tar.arrayBuffer()));
    await db.close();
  })
  .catch((error) => {
    process.stderr.write(String((error && error.message) || error) + '\\n');
    process.exit(1);
  });
`;

/**
 * A new database's data directory right after initdb, as an archive PGlite starts from, made once
 * per PGlite build and settings and kept in node_modules/.cache (or the system's temporary directory
 * where that cannot be written). initdb is the costliest moment of an embedded database's life:
 * PGlite runs it in a second PostgreSQL instance beside the first, and WASM memory once grown is
 * never returned, so a process that ran initdb keeps ~600 MB at its peak and ~40 MB more for
 * good. Made in a short-lived child process instead, the process that serves the database only
 * unpacks the archive. Undefined if it cannot be made (the caller then lets PGlite run initdb).
 */
export async function initdbArchive(): Promise<string | undefined> {
  const entry = require.resolve('@electric-sql/pglite');
  const pglite = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  const key = createHash('sha256')
    .update(JSON.stringify([pglite.version, EMBEDDED_SETTINGS, INITDB_SETTINGS, INITDB_CHILD]))
    .digest('hex')
    .slice(0, 16);
  const name = `pglite-initdb-${key}.tar`;
  const dirs = [
    join(dirname(entry), '..', '..', '..', '.cache', 'saas-embedded-postgres'),
    join(tmpdir(), 'saas-embedded-postgres'),
  ];
  for (const dir of dirs) if (existsSync(join(dir, name))) return join(dir, name);
  for (const dir of dirs) {
    const archive = join(dir, name);
    const partial = `${archive}.${process.pid}.partial`;
    try {
      mkdirSync(dir, { recursive: true });
      const job = JSON.stringify({ archive: partial, settings: EMBEDDED_SETTINGS, initdb: INITDB_SETTINGS });
      await promisify(execFile)(
        process.execPath,
        ['--max-semi-space-size=8', '--liftoff-only', '-e', INITDB_CHILD, entry, job],
        {
          timeout: 120_000,
        },
      );
      // Whole or not at all: a concurrent maker's rename of identical bytes is just as good.
      renameSync(partial, archive);
      // Archives of an earlier PGlite or earlier settings are not read again.
      for (const old of readdirSync(dir)) {
        if (/^pglite-initdb-[0-9a-f]{16}\.tar$/.test(old) && old !== name) rmSync(join(dir, old), { force: true });
      }
      return archive;
    } catch {
      rmSync(partial, { force: true });
    }
  }
  return undefined;
}

/** Whether `dir` holds nothing yet (or does not exist): a new database goes there. */
function isEmptyDir(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/**
 * The template archive as PGlite reads it (it asks only for the type and the bytes). Not a Blob:
 * reading 40 MB back out of a Node Blob costs about half a second of CPU, a plain buffer nothing.
 */
function archiveOf(template: string): Blob {
  const bytes = readFileSync(template);
  // A file this size gets a buffer of its own (not a slice of Node's pool): hand that over as is.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  let buffer: ArrayBuffer | undefined = whole
    ? bytes.buffer
    : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  // Read once: PGlite keeps its options for the life of the database, this object among them, and
  // the archive's 40 MB should not stay with it.
  const archive = {
    type: 'application/x-tar',
    arrayBuffer: () => {
      const once = buffer ?? new ArrayBuffer(0);
      buffer = undefined;
      return Promise.resolve(once);
    },
  };
  return archive as unknown as Blob;
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
  const fresh = dataDir === undefined || isEmptyDir(dataDir);
  const start = template ?? (fresh ? await initdbArchive() : undefined);
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    postgresqlconf: EMBEDDED_SETTINGS,
    initDbStartParams: INITDB_SETTINGS,
    ...(start ? { loadDataDir: archiveOf(start) } : {}),
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
