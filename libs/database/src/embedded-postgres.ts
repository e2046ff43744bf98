import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where the normal postgres driver finds the embedded server: a Unix socket directory. */
export interface EmbeddedPostgresHandle {
  host: string;
  port: number;
  stop(): Promise<void>;
}

const SOCKET_PORT = 5432;

/**
 * PostgreSQL (PGlite, compiled to WASM) inside this process, served over the wire
 * protocol on a private Unix socket. The api then uses the ordinary `pg` driver, so
 * the same SQL, migrations and row-level security run as on a real server.
 * PGlite has one session: the pool in front of it must have exactly one connection.
 */
export async function startEmbeddedPostgres(dataPath: string): Promise<EmbeddedPostgresHandle> {
  const inMemory = dataPath === 'memory://' || dataPath.startsWith('memory://');
  let dataDir: string | undefined;
  if (!inMemory) {
    dataDir = resolve(dataPath);
    mkdirSync(dataDir, { recursive: true });
  }
  const db = await PGlite.create(dataDir);
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
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await db.close();
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
