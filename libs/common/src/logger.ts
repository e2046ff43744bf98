import type { LoggerService, LogLevel } from '@nestjs/common';
import { ClsServiceManager } from 'nestjs-cls';
import pino, { type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { traceFields } from '@app/telemetry';
import { BatchedOutput } from './log-output';

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'authorization',
  'refresh_token',
  '*.refresh_token',
  'access_token',
  '*.access_token',
];

/** Returns the request id of the current CLS context, if any. */
function currentRequestId(): string | undefined {
  try {
    const cls = ClsServiceManager.getClsService();
    return cls.isActive() ? cls.getId() : undefined;
  } catch {
    return undefined;
  }
}

export type LogFormat = 'json' | 'pretty';

/**
 * The process's root logger. `json` (the default) writes one object per line for log shippers;
 * `pretty` writes coloured, human-readable lines for a developer's terminal. Redaction happens
 * before either, so the formats differ in layout only.
 */
export function createRootLogger(
  level: string,
  name: string,
  destination?: pino.DestinationStream,
  format: LogFormat = 'json',
): Logger {
  return buildLogger(level, name, destination, format, {
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Every line written inside a request or job carries its id.
    // With tracing on, so do its trace and span ids (to jump from a log line to its trace).
    mixin: () => {
      const requestId = currentRequestId();
      return requestId ? { requestId, ...traceFields() } : traceFields();
    },
  });
}

/**
 * The access log: one line per request with a fixed list of fields (request id, method, route,
 * path, status, time, who, organization), none of them secret. It skips what the general logger
 * does for every line (redaction over REDACTED_PATHS, the request-context mixin): the line
 * carries its request id and trace ids itself. Same format, level and output as the root logger.
 */
export function createAccessLogger(
  level: string,
  name: string,
  destination?: pino.DestinationStream,
  format: LogFormat = 'json',
): Logger {
  return buildLogger(level, name, destination, format, {});
}

let stampedAt = -1;
let stamp = '';
/**
 * pino's `isoTime` (`,"time":"<ISO 8601>"`), the text kept for the millisecond it was made in. A
 * busy api writes several lines a millisecond (one access line per request), and formatting the
 * date was the largest single cost of an access line: a million access lines to a no-op
 * destination took 1.1 µs of CPU a line with this, 1.8 µs with `isoTime` (2026-12-04).
 */
export function isoTimeOncePerMillisecond(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}

function buildLogger(
  level: string,
  name: string,
  destination: pino.DestinationStream | undefined,
  format: LogFormat,
  extra: Pick<pino.LoggerOptions, 'redact' | 'mixin'>,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    name,
    base: { pid: process.pid },
    timestamp: isoTimeOncePerMillisecond,
    ...extra,
  };
  if (format === 'pretty') return pino(options, prettyStream(destination));
  return pino(options, destination ?? standardOutput());
}

let stdout: BatchedOutput | undefined;

/**
 * Standard output shared by the process's loggers, written in batches: lines collect until 4 KiB
 * or 250 ms, so a busy api makes one write per many lines instead of a system call per line
 * (BatchedOutput: in order, never torn, flushed at exit).
 */
function standardOutput(): pino.DestinationStream {
  // Node's process.stdout, once made, puts a pipe or socket on fd 1 in non-blocking mode (POSIX): a
  // reader that falls behind then makes the batch wait instead of stalling the event loop in
  // write(). The mode belongs to the open pipe, which a child process given this stdout would share
  // (and libuv makes a child's stdio blocking); none is given it today.
  void process.stdout;
  stdout ??= new BatchedOutput(1);
  return stdout;
}

function prettyStream(destination: pino.DestinationStream | undefined): pino.DestinationStream {
  // Development only, so it is loaded only when asked for.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pretty = require('pino-pretty') as typeof PinoPretty;
  return pretty({
    destination: destination ?? 1,
    colorize: destination ? false : pretty.isColorSupported,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name,context',
    // `[Context] message`, the shape Nest's own console logger uses; a request line reads
    // `GET /path 200 12ms`. Other fields follow on the same line.
    singleLine: true,
    messageFormat: (log, messageKey) => {
      const context = typeof log.context === 'string' ? `[${log.context}] ` : '';
      const message = log[messageKey];
      if (message === 'request' && typeof log.method === 'string' && typeof log.path === 'string') {
        return `${context}${log.method} ${log.path} ${String(log.status)} ${String(log.ms)}ms`;
      }
      // log(fields, 'text'): Nest's logger takes the last string as the context; it is the message.
      if (message === undefined) return typeof log.context === 'string' ? log.context : '';
      return `${context}${typeof message === 'string' ? message : JSON.stringify(message)}`;
    },
  });
}

/** Nest's LoggerService backed by pino, so framework and app logs share one JSON format. */
export class AppLogger implements LoggerService {
  /** `access`: the access log's own logger (createAccessLogger); the general one when not given. */
  constructor(
    readonly pino: Logger,
    readonly access: Logger = pino,
  ) {}

  log(message: unknown, ...optional: unknown[]): void {
    this.write('info', message, optional);
  }
  error(message: unknown, ...optional: unknown[]): void {
    this.write('error', message, optional);
  }
  warn(message: unknown, ...optional: unknown[]): void {
    this.write('warn', message, optional);
  }
  debug(message: unknown, ...optional: unknown[]): void {
    this.write('debug', message, optional);
  }
  verbose(message: unknown, ...optional: unknown[]): void {
    this.write('trace', message, optional);
  }
  fatal(message: unknown, ...optional: unknown[]): void {
    this.write('fatal', message, optional);
  }
  setLogLevels(levels: LogLevel[]): void {
    if (levels.length === 0) this.pino.level = 'silent';
  }

  private write(level: pino.Level, message: unknown, optional: unknown[]): void {
    // Nest passes the context (class name) as the last string argument.
    const context = typeof optional.at(-1) === 'string' ? (optional.at(-1) as string) : undefined;
    const rest = context ? optional.slice(0, -1) : optional;
    const fields: Record<string, unknown> = context ? { context } : {};
    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, message.message);
      return;
    }
    if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...(message as Record<string, unknown>) });
      return;
    }
    // Nest's error(message, stack, context) convention.
    const stack = level === 'error' && typeof rest[0] === 'string' ? rest[0] : undefined;
    this.pino[level](stack ? { ...fields, stack } : fields, String(message));
  }
}

/** The api's loggers: the general one and the access log, on one output. */
export function createAppLogger(
  level: string,
  name: string,
  destination?: pino.DestinationStream,
  format: LogFormat = 'json',
): AppLogger {
  return new AppLogger(
    createRootLogger(level, name, destination, format),
    createAccessLogger(level, name, destination, format),
  );
}
