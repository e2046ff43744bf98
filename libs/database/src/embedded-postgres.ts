import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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
 * The template archive as PGlite reads it (it asks only for the type and the bytes). Not a Blob:
 * reading 40 MB back out of a Node Blob costs about half a second of CPU, a plain buffer nothing.
 */
function archiveOf(template: string): Blob {
  const bytes = readFileSync(template);
  // A file this size gets a buffer of its own (not a slice of Node's pool): hand that over as is.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const buffer = whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const archive = { type: 'application/x-tar', arrayBuffer: () => Promise.resolve(buffer) };
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
    mkdirSync(dataDir, { recursive: true });
  }
  const db = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    postgresqlconf: EMBEDDED_SETTINGS,
    ...(template ? { loadDataDir: archiveOf(template) } : {}),
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
