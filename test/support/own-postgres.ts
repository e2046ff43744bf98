import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './processes';

const run = promisify(execFile);

/** A PostgreSQL cluster of the test's own, to stop and start without touching the machine's. */
export interface OwnPostgres {
  url: string;
  port: number;
  /** `immediate` drops every connection at once, as a crash or a killed pod would. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

function binDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  if (!existsSync('/usr/lib/postgresql')) {
    throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found: install them or set PG_BIN_DIR');
  }
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  const dir = versions.map((version) => `/usr/lib/postgresql/${version}/bin`).find((path) => existsSync(path));
  if (!dir) throw new Error('PostgreSQL server binaries not found (set PG_BIN_DIR)');
  return dir;
}

/**
 * initdb + pg_ctl in a temporary directory, on a free port. PostgreSQL refuses to run as root, so
 * as root the cluster belongs to the `postgres` system user and its commands run through runuser.
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = binDir();
  const root = mkdtempSync(join(tmpdir(), 'own-pg-'));
  const data = join(root, 'data');
  const asRoot = userInfo().uid === 0;
  const command = async (tool: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
      : [join(bin, tool), args];
    await run(file, argv, { timeout: 60_000 });
  };
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(root, uid, gid);
  }
  await command('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const start = () =>
    command('pg_ctl', ['-D', data, '-o', options, '-l', join(root, 'log'), '-w', '-t', '60', 'start']);
  const stop = (mode: 'fast' | 'immediate' = 'fast') =>
    command('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  await start();
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop(mode) {
      await stop(mode);
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await stop('immediate').catch(() => undefined);
      running = false;
      rmSync(root, { recursive: true, force: true });
    },
  };
}
