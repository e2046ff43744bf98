import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const port = z.coerce
  .number({ message: 'must be a number' })
  .int('must be an integer')
  .min(0, 'must be between 0 and 65535')
  .max(65535, 'must be between 0 and 65535');

const positiveInt = z.coerce
  .number({ message: 'must be a number' })
  .int('must be an integer')
  .positive('must be greater than 0');

const nonNegativeInt = z.coerce
  .number({ message: 'must be a number' })
  .int('must be an integer')
  .min(0, 'must be 0 or more');

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${protocols.join(', ')})` },
  );

/** A 5-field cron expression (UTC), e.g. `30 3 * * *` for 03:30 every day. */
const cron = z.string().refine(
  (value) => {
    if (value.trim().split(/\s+/).length !== 5) return false;
    try {
      CronExpressionParser.parse(value);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a 5-field cron expression, e.g. "30 3 * * *"' },
);

/** Seconds, written as `900` or with a unit: `30s`, `15m`, `24h`, `7d`. */
const duration = z
  .string()
  .regex(/^\d+\s*[smhd]?$/, 'must be a duration such as 900, 15m, 24h or 7d')
  .transform((value) => {
    const amount = Number.parseInt(value, 10);
    const unit = value.trim().slice(-1);
    const factor = unit === 'm' ? 60 : unit === 'h' ? 3600 : unit === 'd' ? 86400 : 1;
    return amount * factor;
  })
  .refine((seconds) => seconds > 0, 'must be greater than 0');

/** Delays between delivery attempts, `5s,5m,2h` (ms, s, m, h or d), as milliseconds. */
const retrySchedule = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)(,\d+(ms|s|m|h|d))*$/, 'a comma list of delays such as 5s,5m,2h')
  .transform((value) =>
    value.split(',').map((item) => {
      const amount = Number.parseInt(item, 10);
      const unit = item.replace(/^\d+/, '');
      const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit] ?? 1_000;
      return amount * factor;
    }),
  )
  .refine((delays) => delays.length <= 20, 'at most 20 retries');

/**
 * Every environment variable the framework reads, with its default.
 * `.env.example` mirrors this list; a test keeps the two in step.
 */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  APP_NAME: z.string().min(1).default('SaaS Backend Framework'),
  APP_URL: url(['http', 'https']).default('http://localhost:3000'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Unset: pretty when NODE_ENV=development and standard output is a terminal, JSON otherwise.
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  BODY_LIMIT_BYTES: positiveInt.default(1_048_576),
  SCIM_BODY_LIMIT_BYTES: positiveInt.default(4_194_304),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  DOCS_ENABLED: booleanString.default(true),
  // Readiness fails while the database has migrations this build knows and has not applied.
  READINESS_REQUIRES_CURRENT_SCHEMA: booleanString.default(false),
  // What to do at start when Redis may evict keys (BullMQ needs maxmemory-policy noeviction).
  REDIS_EVICTION_POLICY_CHECK: z.enum(['warn', 'refuse', 'off']).default('warn'),
  GRAPHQL_ENABLED: booleanString.default(true),
  // Unset: the schema can be introspected outside production only.
  GRAPHQL_INTROSPECTION: booleanString.optional(),
  GRAPHQL_MAX_DEPTH: positiveInt.default(10),
  GRAPHQL_MAX_COST: positiveInt.default(25_000),
  GRAPHQL_MAX_TOKENS: positiveInt.default(10_000),
  GRAPHQL_MAX_ALIASES: positiveInt.default(30),
  GRAPHQL_BODY_LIMIT_BYTES: positiveInt.default(65_536),
  // One GraphQL request counts ceil(cost / this) against the caller's rate limit (at least 1).
  GRAPHQL_COST_PER_REQUEST: positiveInt.default(1_000),
  GRAPHQL_PERSISTED_QUERIES: z.enum(['off', 'automatic', 'allow-list']).default('off'),
  GRAPHQL_ALLOWED_OPERATIONS_FILE: z.string().min(1).optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_PORT: port.optional(),
  // Read by the OpenTelemetry SDK itself (libs/telemetry) before this schema runs; validated here
  // so a typo stops the start-up with a clear message instead of silently exporting nowhere.
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http', 'https']).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  TRUST_PROXY: z
    .string()
    .regex(
      /^(true|false|\d+|[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*)$/,
      'must be true, false, a number of proxy hops, or a comma list of proxy addresses/CIDRs',
    )
    .default('false'),
  CORS_ORIGINS: z.string().default(''),
  RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
  AUTH_RATE_LIMIT_PER_MINUTE: positiveInt.default(10),
  RATE_LIMIT_FAIL_MODE: z.enum(['open', 'closed'], { message: 'must be open or closed' }).default('open'),
  RATE_LIMIT_LEASE: nonNegativeInt.max(1000, 'must be at most 1000').default(16),

  JWT_SECRET: z.string().optional(),
  JWT_ALGORITHM: z.enum(['HS256', 'RS256'], { message: 'must be HS256 or RS256' }).default('HS256'),
  JWT_PRIVATE_KEY: z.string().min(1).optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).default('saas-api'),
  ACCESS_TOKEN_TTL: duration.default(900),
  REFRESH_TOKEN_TTL: duration.default(7 * 86400),
  SESSION_IDLE_TIMEOUT: duration.default(86400),
  MFA_ENCRYPTION_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/=_-]{43,}$/, 'must be 32 random bytes, base64 encoded (openssl rand -base64 32)')
    .optional(),
  ARGON2_MEMORY_KIB: positiveInt.min(19456, 'must be at least 19456 (OWASP minimum)').default(19456),
  ARGON2_TIME_COST: positiveInt.min(2, 'must be at least 2').default(2),
  ARGON2_PARALLELISM: positiveInt.default(1),
  PASSWORD_HASH_CONCURRENCY: positiveInt.default(4),
  PASSWORD_MIN_LENGTH: positiveInt.min(8, 'must be at least 8').default(10),
  PASSWORD_MAX_LENGTH: positiveInt.max(1024, 'must be at most 1024').default(128),
  PASSWORD_REQUIRE_CLASSES: booleanString.default(false),
  PASSWORD_MIN_SCORE: z.coerce.number({ message: 'must be a number' }).int().min(0).max(4).default(3),
  PASSWORD_CHECKER_IDLE: duration.default(60),
  LOCKOUT_THRESHOLD: positiveInt.default(5),
  LOCKOUT_DURATION_SECONDS: positiveInt.default(900),
  AUTH_REQUIRE_VERIFIED_EMAIL: booleanString.default(false),
  EMAIL_VERIFICATION_TTL: duration.default(86400),
  PASSWORD_RESET_TTL: duration.default(3600),
  MFA_TOKEN_TTL: duration.default(300),
  WEBAUTHN_RP_ID: z
    .string()
    .regex(
      /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
      'must be a lower-case host name',
    )
    .optional(),
  WEBAUTHN_RP_NAME: z.string().min(1).max(100).optional(),
  WEBAUTHN_ORIGINS: z.string().optional(),
  WEBAUTHN_CHALLENGE_TTL: duration.default(300),
  STEP_UP_MAX_AGE: duration.default(300),
  IMPERSONATION_DEFAULT_MINUTES: positiveInt.max(1440, 'must be at most 1440').default(15),
  IMPERSONATION_MAX_MINUTES: positiveInt.max(1440, 'must be at most 1440').default(60),
  ACCOUNT_EXPORT_TTL: duration.default(86400),
  ORGANIZATION_DELETION_GRACE: duration.default(30 * 86400),
  ORGANIZATION_PURGE_CRON: z.string().min(1).default('15 4 * * *'),
  INVITATION_TTL: duration.default(7 * 86400),
  INVITATIONS_PER_ORG_PER_DAY: positiveInt.default(100),
  BOOTSTRAP_ADMIN_EMAIL: z.email({ message: 'must be an email address' }).optional(),

  DATABASE_URL: url(['postgres', 'postgresql']).optional(),
  // The schema owner, for the migrate step only; unset: DATABASE_URL migrates too (one role).
  DATABASE_MIGRATION_URL: url(['postgres', 'postgresql']).optional(),
  // What to do at start when DATABASE_URL's role could alter the schema or skip row-level security.
  // Unset: refuse when NODE_ENV=production, warn otherwise.
  DATABASE_ROLE_CHECK: z.enum(['warn', 'refuse', 'off']).optional(),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: positiveInt.default(15_000),
  MIGRATE_ON_START: booleanString.default(false),
  EMBEDDED_DB_PATH: z.string().min(1).default('./.data/pglite'),
  EMBEDDED_DB_TEMPLATE: z.string().min(1).optional(),

  REDIS_URL: url(['redis', 'rediss']).optional(),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, 'may contain only letters, digits, _ and -')
    .default('saas'),
  WORKER_CONCURRENCY: positiveInt.default(5),
  WORKER_QUEUE_CONCURRENCY: z
    .string()
    .regex(
      /^\s*([a-zA-Z0-9_-]+\s*=\s*[1-9]\d*\s*(,\s*[a-zA-Z0-9_-]+\s*=\s*[1-9]\d*\s*)*)?$/,
      'must be a comma list of queue=jobs, e.g. "default=10,llm=2"',
    )
    .default(''),
  WORKER_QUEUES: z
    .string()
    .regex(/^\s*([a-zA-Z0-9_-]+\s*(,\s*[a-zA-Z0-9_-]+\s*)*)?$/, 'must be a comma list of queue names')
    .default(''),
  WORKER_HEALTH_PORT: port.optional(),
  AUDIT_RETENTION_DAYS: positiveInt.optional(),
  AUDIT_RETENTION_CRON: cron.default('30 3 * * *'),
  WORKER_LOCK_MS: positiveInt.min(1_000).default(30_000),
  DEPENDENCY_CHECK_CRON: z.union([z.literal('off'), cron]).default('15 4 * * *'),
  NPM_REGISTRY_URL: url(['http', 'https']).default('https://registry.npmjs.org'),

  SSO_RETURN_URL: url(['http', 'https']).optional(),
  SSO_METADATA_ALLOW_PRIVATE: booleanString.default(false),
  SSO_DNS_SERVERS: z
    .string()
    .regex(/^[0-9a-fA-F:.[\]]+(,[0-9a-fA-F:.[\]]+)*$/, 'a comma list of IP[:port] DNS servers')
    .optional(),
  EVENTS_HEARTBEAT: duration.default(15),
  EVENTS_MAX_STREAMS: positiveInt.default(10_000),
  EVENTS_MAX_STREAMS_PER_USER: positiveInt.default(5),
  WEBHOOK_RETRY_SCHEDULE: retrySchedule.default([5e3, 3e5, 18e5, 72e5, 18e6, 36e6, 36e6]),
  WEBHOOK_TIMEOUT: duration.default(10),
  WEBHOOK_DISABLE_AFTER: duration.default(5 * 86400),
  WEBHOOK_SECRET_OVERLAP: duration.default(86400),
  WEBHOOK_ALLOW_HTTP: booleanString.default(false),
  WEBHOOK_ALLOWED_PRIVATE_TARGETS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'a comma list of host:port targets')
    .optional(),
  OAUTH_REDIRECT_URL: url(['http', 'https']).optional(),
  OAUTH_STATE_TTL: duration.default(600),
  GOOGLE_CLIENT_ID: z.string().min(1).optional(),
  GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
  GOOGLE_AUTHORIZATION_URL: url(['http', 'https']).default('https://accounts.google.com/o/oauth2/v2/auth'),
  GOOGLE_TOKEN_URL: url(['http', 'https']).default('https://oauth2.googleapis.com/token'),
  GOOGLE_USERINFO_URL: url(['http', 'https']).default('https://openidconnect.googleapis.com/v1/userinfo'),
  MICROSOFT_CLIENT_ID: z.string().min(1).optional(),
  MICROSOFT_CLIENT_SECRET: z.string().min(1).optional(),
  MICROSOFT_TENANT_ID: z.string().min(1).optional(),
  MICROSOFT_ISSUER: url(['http', 'https']).optional(),
  GITHUB_CLIENT_ID: z.string().min(1).optional(),
  GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
  GITHUB_URL: url(['http', 'https']).default('https://github.com'),
  GITHUB_API_URL: url(['http', 'https']).default('https://api.github.com'),
  KEYCLOAK_ISSUER: url(['http', 'https']).optional(),
  KEYCLOAK_CLIENT_ID: z.string().min(1).optional(),
  KEYCLOAK_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_ISSUER: url(['http', 'https']).optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_DISPLAY_NAME: z.string().min(1).max(100).default('Single sign-on'),
  OIDC_SCOPES: z.string().min(1).default('openid email profile'),

  SMTP_URL: url(['smtp', 'smtps']).optional(),
  MAIL_FROM: z.string().min(3).default('SaaS Backend <no-reply@localhost>'),

  OPENAI_BASE_URL: url(['http', 'https']).optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_MODEL: z.string().min(1).max(200).default('gpt-4o-mini'),
  LLM_MODELS: z.string().default(''),
  LLM_TIMEOUT_MS: positiveInt.default(60_000),
  LLM_MAX_RETRIES: nonNegativeInt.max(10, 'must be at most 10').default(2),
  LLM_MAX_TOKENS: positiveInt.default(1024),
  LLM_MONTHLY_TOKEN_BUDGET: nonNegativeInt.optional(),
});

export type RawConfig = z.infer<typeof configSchema>;
