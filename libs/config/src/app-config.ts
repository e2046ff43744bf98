import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { configSchema, type RawConfig } from './config.schema';

export const MIN_JWT_SECRET_LENGTH = 32;

/** Raised when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export type DatabaseConfig =
  | { kind: 'postgres'; url: string; poolSize: number; statementTimeoutMs: number; migrateOnStart: boolean }
  | { kind: 'embedded'; path: string; statementTimeoutMs: number };

/** The validated, typed configuration. Built once at start-up; the only reader of process.env. */
export class AppConfig {
  readonly nodeEnv: RawConfig['NODE_ENV'];
  readonly isProduction: boolean;
  readonly appName: string;
  readonly appUrl: string;
  readonly host: string;
  readonly port: number;
  readonly logLevel: RawConfig['LOG_LEVEL'];
  readonly bodyLimitBytes: number;
  readonly shutdownTimeoutMs: number;
  readonly docsEnabled: boolean;
  readonly jwtSecret: string;
  /** True when JWT_SECRET was missing and a random one was made for this process. */
  readonly jwtSecretGenerated: boolean;
  readonly database: DatabaseConfig;
  readonly redisUrl: string | undefined;
  readonly queuePrefix: string;
  readonly workerConcurrency: number;
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;

  private constructor(raw: RawConfig) {
    this.nodeEnv = raw.NODE_ENV;
    this.isProduction = raw.NODE_ENV === 'production';
    this.appName = raw.APP_NAME;
    this.appUrl = raw.APP_URL.replace(/\/+$/, '');
    this.host = raw.HOST;
    this.port = raw.PORT;
    this.logLevel = raw.LOG_LEVEL;
    this.bodyLimitBytes = raw.BODY_LIMIT_BYTES;
    this.shutdownTimeoutMs = raw.SHUTDOWN_TIMEOUT_MS;
    this.docsEnabled = raw.DOCS_ENABLED;
    this.jwtSecretGenerated = !raw.JWT_SECRET;
    this.jwtSecret = raw.JWT_SECRET ?? randomBytes(48).toString('base64url');
    this.database = raw.DATABASE_URL
      ? {
          kind: 'postgres',
          url: raw.DATABASE_URL,
          poolSize: raw.DATABASE_POOL_SIZE,
          statementTimeoutMs: raw.DATABASE_STATEMENT_TIMEOUT_MS,
          migrateOnStart: raw.MIGRATE_ON_START,
        }
      : {
          kind: 'embedded',
          path: raw.EMBEDDED_DB_PATH,
          statementTimeoutMs: raw.DATABASE_STATEMENT_TIMEOUT_MS,
        };
    this.redisUrl = raw.REDIS_URL;
    this.queuePrefix = raw.QUEUE_PREFIX;
    this.workerConcurrency = raw.WORKER_CONCURRENCY;
    this.smtpUrl = raw.SMTP_URL;
    this.mailFrom = raw.MAIL_FROM;
  }

  /**
   * Validates an environment. Empty strings count as unset, so `FOO=` in a .env file
   * falls back to the default instead of failing on an empty value.
   */
  static fromEnv(env: Record<string, string | undefined>): AppConfig {
    const cleaned: Record<string, string> = {};
    for (const key of Object.keys(configSchema.shape)) {
      const value = env[key];
      if (value !== undefined && value.trim() !== '') cleaned[key] = value.trim();
    }
    const parsed = configSchema.safeParse(cleaned);
    if (!parsed.success) {
      throw new ConfigError(parsed.error.issues.map((issue) => describeIssue(issue)));
    }
    const raw = parsed.data;
    const problems: string[] = [];
    if (raw.NODE_ENV === 'production') {
      if (!raw.JWT_SECRET) problems.push('JWT_SECRET: is required when NODE_ENV=production');
      else if (raw.JWT_SECRET.length < MIN_JWT_SECRET_LENGTH)
        problems.push(`JWT_SECRET: must be at least ${MIN_JWT_SECRET_LENGTH} characters when NODE_ENV=production`);
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return new AppConfig(raw);
  }

  /** Secret-free view for start-up logs. */
  summary(): Record<string, unknown> {
    return {
      nodeEnv: this.nodeEnv,
      port: this.port,
      database: this.database.kind === 'postgres' ? redactUrl(this.database.url) : `embedded (${this.database.path})`,
      redis: this.redisUrl ? redactUrl(this.redisUrl) : 'none (jobs run in-process)',
      mail: this.smtpUrl ? redactUrl(this.smtpUrl) : 'log transport',
    };
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const variable = issue.path.join('.') || '(environment)';
  return `${variable}: ${issue.message}`;
}

/** Removes the password from a connection URL so it can be logged. */
export function redactUrl(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}
