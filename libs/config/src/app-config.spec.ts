import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig, ConfigError, MIN_JWT_SECRET_LENGTH } from './app-config';
import { configSchema } from './config.schema';

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    AppConfig.fromEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('AppConfig', () => {
  it('starts with no environment at all (the embedded default)', () => {
    const config = AppConfig.fromEnv({});
    expect(config.port).toBe(3000);
    expect(config.database).toEqual({ kind: 'embedded', path: './.data/pglite', statementTimeoutMs: 15_000 });
    expect(config.redisUrl).toBeUndefined();
    expect(config.bodyLimitBytes).toBe(1_048_576);
  });

  it('generates a random JWT secret in development and says so', () => {
    const first = AppConfig.fromEnv({});
    const second = AppConfig.fromEnv({});
    expect(first.jwtSecretGenerated).toBe(true);
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(MIN_JWT_SECRET_LENGTH);
    expect(first.jwtSecret).not.toBe(second.jwtSecret);
  });

  it('refuses production without a JWT secret, or with a short one', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['JWT_SECRET: is required when NODE_ENV=production']);
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(31) })).toEqual([
      'JWT_SECRET: must be at least 32 characters when NODE_ENV=production',
    ]);
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) })).toEqual([]);
  });

  describe('placeholders left from a template', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) };
    const placeholder = (name: string) =>
      `${name}: holds a placeholder (CHANGE-ME, <…>); set the real value when NODE_ENV=production`;

    it('are refused in production, naming the variable and never the value', () => {
      const env = {
        ...production,
        JWT_SECRET: 'CHANGE-ME-at-least-32-random-characters-long-secret',
        METRICS_TOKEN: 'changeme-changeme-changeme',
        OPENAI_API_KEY: 'sk-REPLACE_ME',
        GOOGLE_CLIENT_ID: 'client-id',
        GOOGLE_CLIENT_SECRET: '<your client secret>',
        DATABASE_URL: 'postgres://app:<password>@db.internal:5432/app',
        REDIS_URL: 'redis://:CHANGE_ME@cache:6379',
        SMTP_URL: 'smtps://mailer:Change-Me-Too@smtp.example.com:465',
      };
      const problems = problemsOf(env);
      expect(problems).toEqual(
        [
          'JWT_SECRET',
          'METRICS_TOKEN',
          'GOOGLE_CLIENT_SECRET',
          'OPENAI_API_KEY',
          'DATABASE_URL',
          'REDIS_URL',
          'SMTP_URL',
        ].map(placeholder),
      );
      const message = (() => {
        try {
          AppConfig.fromEnv(env);
        } catch (error) {
          return (error as Error).message;
        }
        return '';
      })();
      expect(message).toContain('JWT_SECRET: holds a placeholder');
      for (const value of ['at-least-32', 'changeme-changeme', 'sk-REPLACE', 'your client secret', 'Change-Me-Too'])
        expect(message).not.toContain(value);
    });

    it('are reported instead of the other rules the same variable breaks', () => {
      // The example's MFA key is no base64 of 32 bytes, its JWT secret too short: the placeholder is the news.
      expect(
        problemsOf({ NODE_ENV: 'production', JWT_SECRET: 'CHANGE-ME', MFA_ENCRYPTION_KEY: 'CHANGE-ME-openssl-rand' }),
      ).toEqual([placeholder('JWT_SECRET'), placeholder('MFA_ENCRYPTION_KEY')]);
      expect(problemsOf({ ...production, MFA_ENCRYPTION_KEY: '<openssl rand -base64 32>', PORT: 'abc' })).toEqual([
        placeholder('MFA_ENCRYPTION_KEY'),
        'PORT: must be a number',
      ]);
    });

    it('are accepted outside production (development defaults may say change-me)', () => {
      for (const NODE_ENV of ['development', 'test']) {
        const config = AppConfig.fromEnv({
          NODE_ENV,
          JWT_SECRET: 'change-me-dev-only-insecure-jwt-secret-0123456789',
          DATABASE_URL: 'postgres://app:CHANGE-ME@db:5432/app',
        });
        expect(config.jwtSecret).toBe('change-me-dev-only-insecure-jwt-secret-0123456789');
      }
    });

    it('are looked for in credentials only: real secrets and ordinary URLs pass', () => {
      expect(
        problemsOf({
          ...production,
          JWT_SECRET: 'hQ9+/kZ2mW8x<b>1Lr7pT4vN0sYc3eJ6uA5dF',
          DATABASE_URL: 'postgres://saas:saas@postgres:5432/saas',
          REDIS_URL: 'redis://redis:6379',
          SMTP_URL: 'smtp://mailpit:1025',
          METRICS_TOKEN: 'a'.repeat(24),
        }),
      ).toEqual([]);
    });
  });

  it('names every bad variable with its reason', () => {
    const problems = problemsOf({
      PORT: 'abc',
      DATABASE_URL: 'mysql://nope',
      REDIS_URL: 'not a url',
      LOG_LEVEL: 'loud',
      BODY_LIMIT_BYTES: '-5',
      MIGRATE_ON_START: 'maybe',
    });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'BODY_LIMIT_BYTES',
      'DATABASE_URL',
      'LOG_LEVEL',
      'MIGRATE_ON_START',
      'PORT',
      'REDIS_URL',
    ]);
    expect(problems.find((problem) => problem.startsWith('PORT'))).toBe('PORT: must be a number');
  });

  it('picks the log format: as set, else pretty only for a developer terminal', () => {
    expect(AppConfig.fromEnv({ LOG_FORMAT: 'pretty', NODE_ENV: 'test' }).logFormat).toBe('pretty');
    expect(AppConfig.fromEnv({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(AppConfig.fromEnv({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).logFormat).toBe('json');
    expect(AppConfig.fromEnv({ NODE_ENV: 'development' }).logFormat).toBe(process.stdout.isTTY ? 'pretty' : 'json');
    expect(problemsOf({ LOG_FORMAT: 'xml' })[0]).toMatch(/^LOG_FORMAT: /);
  });

  it('validates the tracing endpoint and shows it in the start-up summary without credentials', () => {
    expect(AppConfig.fromEnv({}).summary().tracing).toBe('off');
    const config = AppConfig.fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:pw@collector.example:4318' });
    expect(config.tracingEndpoint).toBe('https://user:pw@collector.example:4318');
    expect(JSON.stringify(config.summary())).not.toContain('pw@');
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })[0]).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT: /);
  });

  it('reads the audit retention and refuses a cron expression it cannot run', () => {
    expect(AppConfig.fromEnv({}).auditRetention).toEqual({ days: undefined, cron: '30 3 * * *' });
    expect(
      AppConfig.fromEnv({ AUDIT_RETENTION_DAYS: '90', AUDIT_RETENTION_CRON: '0 */6 * * *' }).auditRetention,
    ).toEqual({ days: 90, cron: '0 */6 * * *' });
    for (const cron of ['every day', '* * * *', '61 * * * *', '0 0 * * * *']) {
      expect(problemsOf({ AUDIT_RETENTION_CRON: cron })).toEqual([
        'AUDIT_RETENTION_CRON: must be a 5-field cron expression, e.g. "30 3 * * *"',
      ]);
    }
    expect(problemsOf({ AUDIT_RETENTION_DAYS: '0' })[0]).toMatch(/^AUDIT_RETENTION_DAYS: /);
  });

  it('requires a readable RSA key for RS256', () => {
    expect(problemsOf({ JWT_ALGORITHM: 'RS256' })).toEqual(['JWT_PRIVATE_KEY: is required when JWT_ALGORITHM=RS256']);
    expect(problemsOf({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: 'not a key' })).toEqual([
      'JWT_PRIVATE_KEY: is not a readable PEM private key',
    ]);
    expect(problemsOf({ JWT_ALGORITHM: 'ES256' })).toEqual(['JWT_ALGORITHM: must be HS256 or RS256']);
  });

  it('reads durations with units', () => {
    const config = AppConfig.fromEnv({ ACCESS_TOKEN_TTL: '5m', REFRESH_TOKEN_TTL: '2d', SESSION_IDLE_TIMEOUT: '90' });
    expect(config.auth).toMatchObject({ accessTokenTtl: 300, refreshTokenTtl: 172_800, sessionIdleTimeout: 90 });
    expect(problemsOf({ ACCESS_TOKEN_TTL: '15 minutes' })).toEqual([
      'ACCESS_TOKEN_TTL: must be a duration such as 900, 15m, 24h or 7d',
    ]);
    expect(problemsOf({ ACCESS_TOKEN_TTL: '0' })).toEqual(['ACCESS_TOKEN_TTL: must be greater than 0']);
  });

  it('refuses argon2 parameters below the OWASP minimum', () => {
    expect(problemsOf({ ARGON2_MEMORY_KIB: '1024' })).toEqual([
      'ARGON2_MEMORY_KIB: must be at least 19456 (OWASP minimum)',
    ]);
  });

  it('rejects ports out of range', () => {
    expect(problemsOf({ PORT: '70000' })).toEqual(['PORT: must be between 0 and 65535']);
  });

  it('treats empty values as unset', () => {
    const config = AppConfig.fromEnv({ DATABASE_URL: '', PORT: '  ', REDIS_URL: '' });
    expect(config.database.kind).toBe('embedded');
    expect(config.port).toBe(3000);
  });

  it('uses real services when their URLs are set', () => {
    const config = AppConfig.fromEnv({
      DATABASE_URL: 'postgres://app:pw@db:5432/saas',
      REDIS_URL: 'redis://cache:6379',
      MIGRATE_ON_START: 'true',
    });
    expect(config.database).toMatchObject({
      kind: 'postgres',
      url: 'postgres://app:pw@db:5432/saas',
      migrateOnStart: true,
    });
    expect(config.redisUrl).toBe('redis://cache:6379');
  });

  it('migrates with DATABASE_URL unless the owner has its own URL, and checks the login strictly in production', () => {
    const one = AppConfig.fromEnv({ DATABASE_URL: 'postgres://app:pw@db:5432/saas' });
    expect(one.database).toMatchObject({
      url: 'postgres://app:pw@db:5432/saas',
      migrationUrl: 'postgres://app:pw@db:5432/saas',
      roleCheck: 'warn',
    });
    const split = AppConfig.fromEnv({
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(48),
      DATABASE_URL: 'postgres://app:pw@db:5432/saas',
      DATABASE_MIGRATION_URL: 'postgres://owner:other@db:5432/saas',
    });
    expect(split.database).toMatchObject({ migrationUrl: 'postgres://owner:other@db:5432/saas', roleCheck: 'refuse' });
    expect(
      AppConfig.fromEnv({ DATABASE_URL: 'postgres://app:pw@db:5432/saas', DATABASE_ROLE_CHECK: 'off' }).database,
    ).toMatchObject({ roleCheck: 'off' });
    expect(() => AppConfig.fromEnv({ DATABASE_MIGRATION_URL: 'postgres://owner:pw@db:5432/saas' })).toThrow(
      'DATABASE_MIGRATION_URL: needs DATABASE_URL (the runtime login) beside it',
    );
    expect(() =>
      AppConfig.fromEnv({
        NODE_ENV: 'production',
        JWT_SECRET: 'x'.repeat(48),
        DATABASE_URL: 'postgres://app:pw@db:5432/saas',
        DATABASE_MIGRATION_URL: 'postgres://owner:CHANGE-ME@db:5432/saas',
      }),
    ).toThrow('DATABASE_MIGRATION_URL: holds a placeholder');
  });

  it('never shows passwords in its start-up summary', () => {
    const config = AppConfig.fromEnv({
      DATABASE_URL: 'postgres://app:hunter2@db:5432/saas',
      REDIS_URL: 'redis://:topsecret@cache:6379',
      SMTP_URL: 'smtp://user:mailpw@mail:587',
    });
    const summary = JSON.stringify(config.summary());
    expect(summary).not.toMatch(/hunter2|topsecret|mailpw/);
    expect(summary).toContain('db:5432');
  });

  it('.env.example documents every variable of the schema', () => {
    const example = readFileSync(join(__dirname, '..', '..', '..', '.env.example'), 'utf8');
    const missing = Object.keys(configSchema.shape).filter((key) => !new RegExp(`^#? ?${key}=`, 'm').test(example));
    expect(missing).toEqual([]);
  });

  it('reads per-queue concurrency and the queues a worker takes', () => {
    const config = AppConfig.fromEnv({ WORKER_QUEUE_CONCURRENCY: 'default=10, llm=2', WORKER_QUEUES: 'llm' });
    expect(config.workerQueueConcurrency).toEqual({ default: 10, llm: 2 });
    expect(config.workerQueues).toEqual(['llm']);
    expect(AppConfig.fromEnv({}).workerQueues).toBeUndefined();
    expect(problemsOf({ WORKER_QUEUE_CONCURRENCY: 'llm=0' })[0]).toMatch(/^WORKER_QUEUE_CONCURRENCY: must be/);
    expect(problemsOf({ WORKER_QUEUE_CONCURRENCY: 'llm' })[0]).toMatch(/^WORKER_QUEUE_CONCURRENCY/);
    expect(problemsOf({ WORKER_QUEUES: 'a b' })[0]).toMatch(/^WORKER_QUEUES/);
  });

  it('turns the LLM on with a key or a base URL, and lists the default model first', () => {
    expect(AppConfig.fromEnv({}).llm.enabled).toBe(false);
    const local = AppConfig.fromEnv({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1/', LLM_MODELS: 'b, a,b' });
    expect(local.llm).toMatchObject({
      enabled: true,
      baseUrl: 'http://127.0.0.1:11434/v1',
      models: ['gpt-4o-mini', 'b', 'a'],
    });
    expect(AppConfig.fromEnv({ OPENAI_API_KEY: 'sk-x' }).llm).toMatchObject({
      enabled: true,
      baseUrl: 'https://api.openai.com/v1',
    });
    expect(JSON.stringify(AppConfig.fromEnv({ OPENAI_API_KEY: 'sk-secret-x' }).summary())).not.toContain('sk-secret');
    expect(problemsOf({ LLM_MAX_RETRIES: '-1' })[0]).toMatch(/^LLM_MAX_RETRIES/);
  });

  it('schedules the dependency check daily unless turned off', () => {
    expect(AppConfig.fromEnv({}).dependencyCheck).toEqual({
      cron: '15 4 * * *',
      registryUrl: 'https://registry.npmjs.org',
    });
    expect(AppConfig.fromEnv({ DEPENDENCY_CHECK_CRON: 'off' }).dependencyCheck.cron).toBeUndefined();
    expect(problemsOf({ DEPENDENCY_CHECK_CRON: 'daily' })[0]).toMatch(/^DEPENDENCY_CHECK_CRON/);
  });
});
