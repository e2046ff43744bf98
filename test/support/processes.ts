import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
export const BUILT_ENTRY = {
  api: join(ROOT, 'dist/apps/api/apps/api/src/main.js'),
  worker: join(ROOT, 'dist/apps/worker/apps/worker/src/main.js'),
  cli: join(ROOT, 'dist/apps/api/apps/api/src/cli.js'),
  /** A team's worker entry over the built worker: a plain @nestjs/bullmq @Processor beside the framework's. */
  'team-worker': join(ROOT, 'test/support/team-worker.cjs'),
} as const;

/** Variables a child must not inherit from the test runner's own environment. */
const APP_VARIABLES = ['DATABASE_URL', 'REDIS_URL', 'SMTP_URL', 'JWT_SECRET', 'NODE_ENV', 'PORT', 'QUEUE_PREFIX'];

export interface AppProcess {
  child: ChildProcess;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs a built app (npm run build first) as a real process, as an operator would. */
export function startProcess(
  kind: keyof typeof BUILT_ENTRY,
  env: Record<string, string | undefined>,
  args: string[] = [],
): AppProcess {
  const inherited = { ...process.env };
  for (const key of APP_VARIABLES) delete inherited[key];
  const child = spawn(process.execPath, [BUILT_ENTRY[kind], ...args], {
    // ENV_FILE=none: a developer's own .env must not reach the apps a test starts.
    env: { ...inherited, LOG_LEVEL: 'info', ENV_FILE: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners: Array<() => void> = [];
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  return {
    child,
    output: () => output,
    exited,
    waitForOutput(pattern, timeoutMs = 30_000) {
      if (pattern.test(output)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`timed out waiting for ${String(pattern)}; output so far:\n${output}`));
        }, timeoutMs);
        const check = () => {
          if (!pattern.test(output)) return;
          clearTimeout(timer);
          listeners.splice(listeners.indexOf(check), 1);
          resolve();
        };
        listeners.push(check);
        void exited.then(() => {
          if (pattern.test(output)) return;
          clearTimeout(timer);
          reject(new Error(`process exited before ${String(pattern)}; output:\n${output}`));
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
