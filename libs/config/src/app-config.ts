import { createPrivateKey, hkdfSync, randomBytes } from 'node:crypto';
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
  | {
      kind: 'postgres';
      /** The runtime login: owns nothing, becomes app_user for each unit of work. */
      url: string;
      /** The schema owner's login, for migrations (the same as `url` when only DATABASE_URL is set). */
      migrationUrl: string;
      poolSize: number;
      statementTimeoutMs: number;
      migrateOnStart: boolean;
      roleCheck: 'warn' | 'refuse' | 'off';
    }
  | { kind: 'embedded'; path: string; statementTimeoutMs: number; template?: string };

export interface PasswordPolicyConfig {
  minLength: number;
  maxLength: number;
  /** Require upper case, lower case, digit and symbol (off by default: length and guessability matter more). */
  requireClasses: boolean;
  /** Minimum zxcvbn score, 0 (anything) to 4 (very hard to guess). */
  minScore: number;
  /**
   * The guessability checker (zxcvbn and its dictionaries, about 30 MB) runs in a worker thread
   * started when a password is set, and stopped after this many seconds without one.
   */
  checkerIdleSeconds: number;
}

export interface AuthConfig {
  algorithm: 'HS256' | 'RS256';
  /** RS256 only: PEM private key (its public half is published at /.well-known/jwks.json). */
  privateKeyPem: string | undefined;
  issuer: string;
  audience: string;
  /** Seconds. */
  accessTokenTtl: number;
  refreshTokenTtl: number;
  sessionIdleTimeout: number;
  mfaEncryptionKey: Buffer;
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  hashConcurrency: number;
  passwordPolicy: PasswordPolicyConfig;
  lockoutThreshold: number;
  lockoutDurationSeconds: number;
  requireVerifiedEmail: boolean;
  emailVerificationTtl: number;
  passwordResetTtl: number;
  mfaTokenTtl: number;
  /** Passkeys: the relying party and the origins a browser may sign for. */
  webauthn: WebAuthnConfig;
  /** Seconds after a sign-in or a step-up during which a sensitive change needs no new proof. */
  stepUpMaxAge: number;
  /** Platform admins acting as a user: minutes an impersonation lasts unless asked otherwise, and at most. */
  impersonation: { defaultMinutes: number; maxMinutes: number };
  /** Seconds an account export's download link (and the export) lives. */
  accountExportTtl: number;
  /** Seconds between an organization's deletion request and its purge (an owner may restore it meanwhile). */
  organizationDeletionGrace: number;
  /** When the job that purges organizations past their grace period runs (UTC cron). */
  organizationPurgeCron: string;
  invitationTtl: number;
  /** Invitation mails (new and resent) an organization may send in any 24 hours. */
  invitationsPerOrgPerDay: number;
  /** Made platform admin at start-up (and when that address is verified); never the first registrant. */
  bootstrapAdminEmail: string | undefined;
}

export interface WebAuthnConfig {
  /** The relying party id: the host name passkeys are bound to (WEBAUTHN_RP_ID, by default APP_URL's host). */
  rpId: string;
  rpName: string;
  /** Origins whose pages may create and use passkeys (WEBAUTHN_ORIGINS, by default APP_URL's origin). */
  origins: string[];
  /** Seconds a registration or sign-in challenge stays usable (single use either way). */
  challengeTtl: number;
}

export type OAuthProviderId = 'google' | 'microsoft' | 'github' | 'keycloak' | 'oidc';

/** One enabled sign-in provider: an OpenID Connect issuer (found by discovery), Google's fixed endpoints, or GitHub's. */
export type OAuthProviderConfig =
  | {
      id: Exclude<OAuthProviderId, 'github' | 'google'>;
      kind: 'oidc';
      displayName: string;
      issuer: string;
      clientId: string;
      clientSecret: string;
      scopes: string;
    }
  | {
      id: 'google';
      kind: 'google';
      displayName: string;
      authorizationUrl: string;
      tokenUrl: string;
      userInfoUrl: string;
      clientId: string;
      clientSecret: string;
      scopes: string;
    }
  | {
      id: 'github';
      kind: 'github';
      displayName: string;
      webUrl: string;
      apiUrl: string;
      clientId: string;
      clientSecret: string;
      scopes: string;
    };

export interface OAuthConfig {
  providers: OAuthProviderConfig[];
  /** Where providers send the browser back: `<redirectBase>/<provider>` (a page of your front end). */
  redirectBase: string;
  /** Seconds a `state` stays usable. */
  stateTtl: number;
}

export interface SsoConfig {
  /** The front-end page single sign-on returns to by default (`?sso_code=` or `?sso_error=`). */
  returnUrl: string;
  /** Origins a sign-in may return to: APP_URL's and CORS_ORIGINS. */
  returnOrigins: string[];
  /** DNS servers for domain verification; empty: the system's resolvers. */
  dnsServers: string[];
  /** Whether IdP metadata may be fetched from private and loopback addresses (off: SSRF). */
  metadataAllowPrivate: boolean;
}

export interface EventsConfig {
  /** Seconds between a stream's heartbeats (each one also checks the session and membership again). */
  heartbeatSeconds: number;
  /** Open streams one api replica holds at most. */
  maxStreams: number;
  /** Open streams one person holds at most on one replica. */
  maxStreamsPerUser: number;
}

export interface WebhookConfig {
  /** Delays before each retry, ms: the first attempt is at once, then one more per entry. */
  retryScheduleMs: number[];
  /** Seconds a receiver has to answer one delivery. */
  timeoutSeconds: number;
  /** Seconds an endpoint may keep failing before it is disabled (and its organization's owners mailed). */
  disableAfterSeconds: number;
  /** Seconds the previous signing secret still signs after a rotation. */
  secretOverlapSeconds: number;
  /** Plain http endpoints (development only). */
  allowHttp: boolean;
  /** host:port targets allowed on private addresses (tests' loopback receivers). */
  allowedPrivateTargets: string[];
}

export interface HttpSecurityConfig {
  /** Fastify's trustProxy: whether (and which) X-Forwarded-For hops are believed for the client address. */
  trustProxy: boolean | number | string[];
  /** Exact origins allowed by CORS; empty: no CORS headers at all. */
  corsOrigins: string[];
  rateLimitPerMinute: number;
  authRateLimitPerMinute: number;
  /** What to do when the shared limiter store (Redis) is unreachable. */
  rateLimitFailMode: 'open' | 'closed';
  /**
   * At most how many hits, beyond the request's own, a replica may take from Redis at once and
   * spend locally (never more than an eighth of what is left of the limit); 0: a round trip per request.
   */
  rateLimitLease: number;
}

/** The LLM provider: OpenAI or any server that speaks its HTTP API (vLLM, Ollama, LiteLLM, ...). */
export interface LlmConfig {
  /** False when neither OPENAI_API_KEY nor OPENAI_BASE_URL is set: the LLM routes answer 503. */
  enabled: boolean;
  baseUrl: string;
  /** Servers without keys (a local Ollama) still get a placeholder: the client library needs one. */
  apiKey: string;
  defaultModel: string;
  /** Models a request may name; the default model first. */
  models: string[];
  timeoutMs: number;
  maxRetries: number;
  /** Ceiling on completion tokens per request (and the default). */
  maxTokens: number;
  /** Tokens an organization may use per calendar month (UTC) unless a platform admin set its own; none: no limit. */
  monthlyTokenBudget: number | undefined;
}

export interface GraphqlConfig {
  enabled: boolean;
  introspection: boolean;
  graphiql: boolean;
  /** Deepest selection an operation may nest. */
  maxDepth: number;
  /** Highest estimated cost (fields, multiplied by the page sizes of the lists they sit in). */
  maxCost: number;
  /** Longest document, in GraphQL tokens (names, punctuation, values), checked while parsing. */
  maxTokens: number;
  /** Most fields renamed with an alias in one document. */
  maxAliases: number;
  /**
   * Request bodies of /graphql (a document and its variables). Small on purpose: parsed documents
   * are cached by their text, so this bounds the cache's memory too.
   */
  bodyLimitBytes: number;
  /** The cost one rate-limited request stands for: an operation counts ceil(cost / this), at least 1. */
  costPerRequest: number;
  /**
   * off: any document. automatic: Apollo's automatic persisted queries (hashes cached per process).
   * allow-list: only the documents in allowedOperationsFile, sent whole or by their SHA-256.
   */
  persistedQueries: 'off' | 'automatic' | 'allow-list';
  allowedOperationsFile: string | undefined;
}

/** The validated, typed configuration. Built once at start-up; the only reader of process.env. */
export class AppConfig {
  readonly nodeEnv: RawConfig['NODE_ENV'];
  readonly isProduction: boolean;
  readonly appName: string;
  readonly appUrl: string;
  readonly host: string;
  readonly port: number;
  readonly logLevel: RawConfig['LOG_LEVEL'];
  /** LOG_FORMAT, or pretty for a developer's terminal and JSON everywhere else. */
  readonly logFormat: 'json' | 'pretty';
  /** OTEL_EXPORTER_OTLP_ENDPOINT (tracing itself is started by libs/telemetry from the environment). */
  readonly tracingEndpoint: string | undefined;
  readonly bodyLimitBytes: number;
  /** Request bodies of the SCIM Groups routes (a 10,000-member PATCH is about 1 MB; Okta adds names). */
  readonly scimBodyLimitBytes: number;
  readonly shutdownTimeoutMs: number;
  readonly docsEnabled: boolean;
  /** READINESS_REQUIRES_CURRENT_SCHEMA: /api/v1/health is 503 while migrations are pending. */
  readonly readinessRequiresCurrentSchema: boolean;
  /** GraphQL at /graphql: limits checked before execution; see docs/graphql.md. */
  readonly graphql: GraphqlConfig;
  readonly jwtSecret: string;
  /** True when JWT_SECRET was missing and a random one was made for this process. */
  readonly jwtSecretGenerated: boolean;
  readonly auth: AuthConfig;
  readonly database: DatabaseConfig;
  readonly redisUrl: string | undefined;
  /** At start: warn about (or refuse) a Redis whose maxmemory-policy is not noeviction. */
  readonly redisEvictionPolicyCheck: 'warn' | 'refuse' | 'off';
  readonly queuePrefix: string;
  readonly workerConcurrency: number;
  /** Jobs at once per queue where it differs from workerConcurrency. */
  readonly workerQueueConcurrency: Record<string, number>;
  /** The queues this worker takes jobs from; undefined: every queue with processors. */
  readonly workerQueues: string[] | undefined;
  /** The worker's /health and /metrics listener; none when unset. */
  readonly workerHealthPort: number | undefined;
  /** A running job's lock; a crashed worker's job is taken over by another once it lapses. */
  readonly workerLockMs: number;
  /** Audit rows older than `days` are deleted by a job on `cron`; no `days`, kept forever. */
  readonly auditRetention: { days: number | undefined; cron: string };
  /** The daily (by default) check of the installed npm packages against the registry; no cron: off. */
  readonly dependencyCheck: { cron: string | undefined; registryUrl: string };
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly oauth: OAuthConfig;
  readonly sso: SsoConfig;
  readonly webhooks: WebhookConfig;
  readonly events: EventsConfig;
  readonly http: HttpSecurityConfig;
  /** Prometheus metrics: on the main port behind a bearer token, and/or on their own port. */
  readonly metrics: { token: string | undefined; port: number | undefined };
  readonly llm: LlmConfig;

  private constructor(raw: RawConfig) {
    this.nodeEnv = raw.NODE_ENV;
    this.isProduction = raw.NODE_ENV === 'production';
    this.appName = raw.APP_NAME;
    this.appUrl = raw.APP_URL.replace(/\/+$/, '');
    this.host = raw.HOST;
    this.port = raw.PORT;
    this.logLevel = raw.LOG_LEVEL;
    this.logFormat =
      raw.LOG_FORMAT ?? (raw.NODE_ENV === 'development' && process.stdout.isTTY === true ? 'pretty' : 'json');
    this.tracingEndpoint = raw.OTEL_EXPORTER_OTLP_ENDPOINT;
    this.bodyLimitBytes = raw.BODY_LIMIT_BYTES;
    this.scimBodyLimitBytes = Math.max(raw.SCIM_BODY_LIMIT_BYTES, raw.BODY_LIMIT_BYTES);
    this.shutdownTimeoutMs = raw.SHUTDOWN_TIMEOUT_MS;
    this.docsEnabled = raw.DOCS_ENABLED;
    this.readinessRequiresCurrentSchema = raw.READINESS_REQUIRES_CURRENT_SCHEMA;
    this.graphql = {
      enabled: raw.GRAPHQL_ENABLED,
      introspection: raw.GRAPHQL_INTROSPECTION ?? !this.isProduction,
      // The GraphiQL page is a developer's tool, never served in production.
      graphiql: raw.GRAPHQL_ENABLED && !this.isProduction,
      maxDepth: raw.GRAPHQL_MAX_DEPTH,
      maxCost: raw.GRAPHQL_MAX_COST,
      maxTokens: raw.GRAPHQL_MAX_TOKENS,
      maxAliases: raw.GRAPHQL_MAX_ALIASES,
      bodyLimitBytes: raw.GRAPHQL_BODY_LIMIT_BYTES,
      costPerRequest: raw.GRAPHQL_COST_PER_REQUEST,
      persistedQueries: raw.GRAPHQL_PERSISTED_QUERIES,
      allowedOperationsFile: raw.GRAPHQL_ALLOWED_OPERATIONS_FILE,
    };
    this.jwtSecretGenerated = !raw.JWT_SECRET;
    this.jwtSecret = raw.JWT_SECRET ?? randomBytes(48).toString('base64url');
    this.auth = {
      algorithm: raw.JWT_ALGORITHM,
      // Keys often arrive through env files with escaped newlines.
      privateKeyPem: raw.JWT_PRIVATE_KEY?.replace(/\\n/g, '\n'),
      issuer: raw.JWT_ISSUER ?? this.appUrl,
      audience: raw.JWT_AUDIENCE,
      accessTokenTtl: raw.ACCESS_TOKEN_TTL,
      refreshTokenTtl: raw.REFRESH_TOKEN_TTL,
      sessionIdleTimeout: raw.SESSION_IDLE_TIMEOUT,
      mfaEncryptionKey: raw.MFA_ENCRYPTION_KEY
        ? Buffer.from(raw.MFA_ENCRYPTION_KEY, 'base64')
        : // Derived so development works without another variable; set it in production (see docs/authentication.md).
          Buffer.from(hkdfSync('sha256', this.jwtSecret, 'mfa-encryption', 'totp-secrets', 32)),
      argon2: {
        memoryCost: raw.ARGON2_MEMORY_KIB,
        timeCost: raw.ARGON2_TIME_COST,
        parallelism: raw.ARGON2_PARALLELISM,
      },
      hashConcurrency: raw.PASSWORD_HASH_CONCURRENCY,
      passwordPolicy: {
        minLength: raw.PASSWORD_MIN_LENGTH,
        maxLength: raw.PASSWORD_MAX_LENGTH,
        requireClasses: raw.PASSWORD_REQUIRE_CLASSES,
        minScore: raw.PASSWORD_MIN_SCORE,
        checkerIdleSeconds: raw.PASSWORD_CHECKER_IDLE,
      },
      lockoutThreshold: raw.LOCKOUT_THRESHOLD,
      lockoutDurationSeconds: raw.LOCKOUT_DURATION_SECONDS,
      requireVerifiedEmail: raw.AUTH_REQUIRE_VERIFIED_EMAIL,
      emailVerificationTtl: raw.EMAIL_VERIFICATION_TTL,
      passwordResetTtl: raw.PASSWORD_RESET_TTL,
      mfaTokenTtl: raw.MFA_TOKEN_TTL,
      webauthn: webauthnConfig(raw),
      stepUpMaxAge: raw.STEP_UP_MAX_AGE,
      impersonation: {
        defaultMinutes: raw.IMPERSONATION_DEFAULT_MINUTES,
        maxMinutes: raw.IMPERSONATION_MAX_MINUTES,
      },
      accountExportTtl: raw.ACCOUNT_EXPORT_TTL,
      organizationDeletionGrace: raw.ORGANIZATION_DELETION_GRACE,
      organizationPurgeCron: raw.ORGANIZATION_PURGE_CRON,
      invitationTtl: raw.INVITATION_TTL,
      invitationsPerOrgPerDay: raw.INVITATIONS_PER_ORG_PER_DAY,
      bootstrapAdminEmail: raw.BOOTSTRAP_ADMIN_EMAIL?.toLowerCase(),
    };
    this.database = raw.DATABASE_URL
      ? {
          kind: 'postgres',
          url: raw.DATABASE_URL,
          migrationUrl: raw.DATABASE_MIGRATION_URL ?? raw.DATABASE_URL,
          poolSize: raw.DATABASE_POOL_SIZE,
          statementTimeoutMs: raw.DATABASE_STATEMENT_TIMEOUT_MS,
          migrateOnStart: raw.MIGRATE_ON_START,
          roleCheck: raw.DATABASE_ROLE_CHECK ?? (raw.NODE_ENV === 'production' ? 'refuse' : 'warn'),
        }
      : {
          kind: 'embedded',
          path: raw.EMBEDDED_DB_PATH,
          statementTimeoutMs: raw.DATABASE_STATEMENT_TIMEOUT_MS,
          ...(raw.EMBEDDED_DB_TEMPLATE ? { template: raw.EMBEDDED_DB_TEMPLATE } : {}),
        };
    this.redisUrl = raw.REDIS_URL;
    this.redisEvictionPolicyCheck = raw.REDIS_EVICTION_POLICY_CHECK;
    this.queuePrefix = raw.QUEUE_PREFIX;
    this.workerConcurrency = raw.WORKER_CONCURRENCY;
    this.workerQueueConcurrency = Object.fromEntries(
      raw.WORKER_QUEUE_CONCURRENCY.split(',')
        .filter((entry) => entry.trim())
        .map((entry) => {
          const [queue = '', jobs = ''] = entry.split('=');
          return [queue.trim(), Number(jobs.trim())];
        }),
    );
    const queues = raw.WORKER_QUEUES.split(',')
      .map((queue) => queue.trim())
      .filter(Boolean);
    this.workerQueues = queues.length > 0 ? queues : undefined;
    this.workerHealthPort = raw.WORKER_HEALTH_PORT;
    this.workerLockMs = raw.WORKER_LOCK_MS;
    this.auditRetention = { days: raw.AUDIT_RETENTION_DAYS, cron: raw.AUDIT_RETENTION_CRON };
    this.dependencyCheck = {
      cron: raw.DEPENDENCY_CHECK_CRON === 'off' ? undefined : raw.DEPENDENCY_CHECK_CRON,
      registryUrl: raw.NPM_REGISTRY_URL.replace(/\/+$/, ''),
    };
    this.smtpUrl = raw.SMTP_URL;
    this.mailFrom = raw.MAIL_FROM;
    this.metrics = { token: raw.METRICS_TOKEN, port: raw.METRICS_PORT };
    this.llm = {
      enabled: Boolean(raw.OPENAI_API_KEY ?? raw.OPENAI_BASE_URL),
      baseUrl: (raw.OPENAI_BASE_URL ?? 'https://api.openai.com/v1').replace(/\/+$/, ''),
      apiKey: raw.OPENAI_API_KEY ?? 'none',
      defaultModel: raw.OPENAI_MODEL,
      models: [
        ...new Set([
          raw.OPENAI_MODEL,
          ...raw.LLM_MODELS.split(',')
            .map((model) => model.trim())
            .filter(Boolean),
        ]),
      ],
      timeoutMs: raw.LLM_TIMEOUT_MS,
      maxRetries: raw.LLM_MAX_RETRIES,
      maxTokens: raw.LLM_MAX_TOKENS,
      monthlyTokenBudget: raw.LLM_MONTHLY_TOKEN_BUDGET,
    };
    this.http = {
      trustProxy:
        raw.TRUST_PROXY === 'true'
          ? true
          : raw.TRUST_PROXY === 'false'
            ? false
            : /^\d+$/.test(raw.TRUST_PROXY)
              ? Number(raw.TRUST_PROXY)
              : raw.TRUST_PROXY.split(',').map((entry) => entry.trim()),
      corsOrigins: raw.CORS_ORIGINS.split(',')
        .map((origin) => origin.trim().replace(/\/+$/, ''))
        .filter(Boolean),
      rateLimitPerMinute: raw.RATE_LIMIT_PER_MINUTE,
      authRateLimitPerMinute: raw.AUTH_RATE_LIMIT_PER_MINUTE,
      rateLimitFailMode: raw.RATE_LIMIT_FAIL_MODE,
      rateLimitLease: raw.RATE_LIMIT_LEASE,
    };
    this.events = {
      heartbeatSeconds: raw.EVENTS_HEARTBEAT,
      maxStreams: raw.EVENTS_MAX_STREAMS,
      maxStreamsPerUser: raw.EVENTS_MAX_STREAMS_PER_USER,
    };
    this.webhooks = {
      retryScheduleMs: raw.WEBHOOK_RETRY_SCHEDULE,
      timeoutSeconds: raw.WEBHOOK_TIMEOUT,
      disableAfterSeconds: raw.WEBHOOK_DISABLE_AFTER,
      secretOverlapSeconds: raw.WEBHOOK_SECRET_OVERLAP,
      allowHttp: raw.WEBHOOK_ALLOW_HTTP,
      allowedPrivateTargets: (raw.WEBHOOK_ALLOWED_PRIVATE_TARGETS ?? '')
        .split(',')
        .map((target) => target.trim())
        .filter(Boolean),
    };
    this.sso = {
      returnUrl: raw.SSO_RETURN_URL ?? `${this.appUrl}/sso/callback`,
      returnOrigins: [...new Set([new URL(this.appUrl).origin, ...this.http.corsOrigins])],
      dnsServers: (raw.SSO_DNS_SERVERS ?? '')
        .split(',')
        .map((server) => server.trim())
        .filter(Boolean),
      metadataAllowPrivate: raw.SSO_METADATA_ALLOW_PRIVATE,
    };
    this.oauth = {
      redirectBase: (raw.OAUTH_REDIRECT_URL ?? `${this.appUrl}/auth/callback`).replace(/\/+$/, ''),
      providers: oauthProviders(raw),
      stateTtl: raw.OAUTH_STATE_TTL,
    };
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
    // A template's value left in place (CHANGE-ME, <password>) is reported as such, before (and
    // instead of) whatever else is wrong with that variable.
    const placeholders = cleaned.NODE_ENV === 'production' ? placeholderVariables(cleaned) : [];
    const refuse = (problems: string[]): never => {
      throw new ConfigError([
        ...placeholders.map(
          (name) => `${name}: holds a placeholder (CHANGE-ME, <…>); set the real value when NODE_ENV=production`,
        ),
        ...problems.filter((problem) => !placeholders.includes(problem.split(':')[0] ?? '')),
      ]);
    };
    const parsed = configSchema.safeParse(cleaned);
    if (!parsed.success) return refuse(parsed.error.issues.map((issue) => describeIssue(issue)));
    const raw = parsed.data;
    const problems: string[] = [];
    if (raw.NODE_ENV === 'production') {
      if (!raw.JWT_SECRET) problems.push('JWT_SECRET: is required when NODE_ENV=production');
      else if (raw.JWT_SECRET.length < MIN_JWT_SECRET_LENGTH)
        problems.push(`JWT_SECRET: must be at least ${MIN_JWT_SECRET_LENGTH} characters when NODE_ENV=production`);
    }
    if (raw.MFA_ENCRYPTION_KEY && Buffer.from(raw.MFA_ENCRYPTION_KEY, 'base64').length !== 32) {
      problems.push('MFA_ENCRYPTION_KEY: must decode to exactly 32 bytes');
    }
    if (raw.JWT_ALGORITHM === 'RS256') {
      if (!raw.JWT_PRIVATE_KEY) problems.push('JWT_PRIVATE_KEY: is required when JWT_ALGORITHM=RS256');
      else {
        try {
          const key = createPrivateKey(raw.JWT_PRIVATE_KEY.replace(/\\n/g, '\n'));
          if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
            problems.push('JWT_PRIVATE_KEY: must be an RSA key of at least 2048 bits');
          }
        } catch {
          problems.push('JWT_PRIVATE_KEY: is not a readable PEM private key');
        }
      }
    }
    const values = raw as unknown as Record<string, string | undefined>;
    for (const [prefix, needed] of OAUTH_REQUIREMENTS) {
      if (!values[`${prefix}_CLIENT_ID`]) continue;
      for (const suffix of needed) {
        if (!values[`${prefix}_${suffix}`])
          problems.push(`${prefix}_${suffix}: is required when ${prefix}_CLIENT_ID is set`);
      }
    }
    for (const origin of raw.CORS_ORIGINS.split(',')
      .map((entry) => entry.trim())
      .filter(Boolean)) {
      if (origin === '*')
        problems.push('CORS_ORIGINS: list the allowed origins; * is refused (credentials are allowed)');
      else if (!/^https?:\/\/[^/\s]+\/?$/.test(origin))
        problems.push(`CORS_ORIGINS: ${origin} is not an origin (scheme://host[:port])`);
    }
    problems.push(...webauthnProblems(raw));
    if (raw.IMPERSONATION_DEFAULT_MINUTES > raw.IMPERSONATION_MAX_MINUTES) {
      problems.push('IMPERSONATION_DEFAULT_MINUTES: must not exceed IMPERSONATION_MAX_MINUTES');
    }
    if (raw.MICROSOFT_CLIENT_ID && !raw.MICROSOFT_TENANT_ID && !raw.MICROSOFT_ISSUER) {
      problems.push('MICROSOFT_TENANT_ID: is required when MICROSOFT_CLIENT_ID is set (your directory (tenant) id)');
    }
    if (raw.GRAPHQL_PERSISTED_QUERIES === 'allow-list' && !raw.GRAPHQL_ALLOWED_OPERATIONS_FILE) {
      problems.push('GRAPHQL_ALLOWED_OPERATIONS_FILE: is required when GRAPHQL_PERSISTED_QUERIES=allow-list');
    }
    if (raw.PASSWORD_MIN_LENGTH > raw.PASSWORD_MAX_LENGTH) {
      problems.push('PASSWORD_MIN_LENGTH: must not exceed PASSWORD_MAX_LENGTH');
    }
    if (raw.DATABASE_MIGRATION_URL && !raw.DATABASE_URL) {
      problems.push('DATABASE_MIGRATION_URL: needs DATABASE_URL (the runtime login) beside it');
    }
    if (raw.EMBEDDED_DB_TEMPLATE && !raw.DATABASE_URL && !raw.EMBEDDED_DB_PATH.startsWith('memory://')) {
      problems.push(
        'EMBEDDED_DB_TEMPLATE: only with EMBEDDED_DB_PATH=memory:// (an archive never overwrites a data directory)',
      );
    }
    if (problems.length > 0 || placeholders.length > 0) return refuse(problems);
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
      signInProviders: this.oauth.providers.map((provider) => provider.id),
      tracing: this.tracingEndpoint ? redactUrl(this.tracingEndpoint) : 'off',
      llm: this.llm.enabled ? `${redactUrl(this.llm.baseUrl)} (${this.llm.models.join(', ')})` : 'not configured',
    };
  }
}

function webauthnConfig(raw: RawConfig): WebAuthnConfig {
  const appOrigin = new URL(raw.APP_URL).origin;
  return {
    rpId: raw.WEBAUTHN_RP_ID ?? new URL(raw.APP_URL).hostname,
    rpName: raw.WEBAUTHN_RP_NAME ?? raw.APP_NAME,
    origins: raw.WEBAUTHN_ORIGINS
      ? listOf(raw.WEBAUTHN_ORIGINS).map((origin) => origin.replace(/\/+$/, ''))
      : [appOrigin],
    challengeTtl: raw.WEBAUTHN_CHALLENGE_TTL,
  };
}

function listOf(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * A browser signs a passkey only for an origin whose host is the relying party id or below it,
 * and only in a secure context (https, or http on localhost).
 */
function webauthnProblems(raw: RawConfig): string[] {
  // Left to their defaults, both follow APP_URL: nothing to contradict (an http APP_URL on another
  // host than localhost only means browsers will not offer passkeys there).
  if (!raw.WEBAUTHN_ORIGINS && !raw.WEBAUTHN_RP_ID) return [];
  const { rpId, origins } = webauthnConfig(raw);
  const problems: string[] = [];
  for (const origin of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push(`WEBAUTHN_ORIGINS: ${origin} is not an origin (scheme://host[:port])`);
      continue;
    }
    const { hostname, protocol } = new URL(origin);
    if (hostname !== rpId && !hostname.endsWith(`.${rpId}`)) {
      problems.push(`WEBAUTHN_ORIGINS: ${origin} is not on WEBAUTHN_RP_ID ${rpId} or a subdomain of it`);
    } else if (
      raw.WEBAUTHN_ORIGINS &&
      protocol === 'http:' &&
      hostname !== 'localhost' &&
      !hostname.endsWith('.localhost')
    ) {
      problems.push(`WEBAUTHN_ORIGINS: ${origin} must use https (browsers offer passkeys only to secure origins)`);
    }
  }
  return problems;
}

/** Variables that carry a secret whole. */
const SECRET_VARIABLES = [
  'JWT_SECRET',
  'JWT_PRIVATE_KEY',
  'MFA_ENCRYPTION_KEY',
  'METRICS_TOKEN',
  'GOOGLE_CLIENT_SECRET',
  'MICROSOFT_CLIENT_SECRET',
  'GITHUB_CLIENT_SECRET',
  'KEYCLOAK_CLIENT_SECRET',
  'OIDC_CLIENT_SECRET',
  'OPENAI_API_KEY',
] as const;

/** URLs whose user name and password carry a secret. */
const SECRET_URL_VARIABLES = [
  'DATABASE_URL',
  'DATABASE_MIGRATION_URL',
  'REDIS_URL',
  'SMTP_URL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
] as const;

/**
 * What templates leave for a person to replace: CHANGE-ME / changeme / CHANGE_ME, replace-me,
 * replace-with-…, and <password>-style words (three characters or more) or <…>.
 */
const PLACEHOLDER = /change[-_ .]?me|replace[-_ .]?(?:me|with)|<(?:[a-z][a-z0-9 _.-]{2,}|\.\.\.|…)>/i;

/** The secret-bearing variables whose value still holds a placeholder (names only, never values). */
function placeholderVariables(env: Record<string, string>): string[] {
  const found: string[] = SECRET_VARIABLES.filter((name) => PLACEHOLDER.test(env[name] ?? ''));
  for (const name of SECRET_URL_VARIABLES) {
    const value = env[name];
    if (value === undefined) continue;
    let credentials = value;
    try {
      const url = new URL(value);
      credentials = `${safeDecode(url.username)}:${safeDecode(url.password)}`;
    } catch {
      // Not a URL: the schema says so; look at the whole value.
    }
    if (PLACEHOLDER.test(credentials)) found.push(name);
  }
  return found;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const OAUTH_REQUIREMENTS = [
  ['GOOGLE', ['CLIENT_SECRET']],
  ['MICROSOFT', ['CLIENT_SECRET']],
  ['GITHUB', ['CLIENT_SECRET']],
  ['KEYCLOAK', ['CLIENT_SECRET', 'ISSUER']],
  ['OIDC', ['CLIENT_SECRET', 'ISSUER']],
] as const;

/** The providers whose client id is set (their other variables were checked in fromEnv). */
function oauthProviders(raw: RawConfig): OAuthProviderConfig[] {
  const providers: OAuthProviderConfig[] = [];
  const oidc = (
    id: Exclude<OAuthProviderId, 'github' | 'google'>,
    displayName: string,
    issuer: string | undefined,
    clientId: string | undefined,
    clientSecret: string | undefined,
    scopes = 'openid email profile',
  ) => {
    if (issuer && clientId && clientSecret)
      providers.push({ id, kind: 'oidc', displayName, issuer, clientId, clientSecret, scopes });
  };
  if (raw.GOOGLE_CLIENT_ID && raw.GOOGLE_CLIENT_SECRET) {
    providers.push({
      id: 'google',
      kind: 'google',
      displayName: 'Google',
      authorizationUrl: raw.GOOGLE_AUTHORIZATION_URL,
      tokenUrl: raw.GOOGLE_TOKEN_URL,
      userInfoUrl: raw.GOOGLE_USERINFO_URL,
      clientId: raw.GOOGLE_CLIENT_ID,
      clientSecret: raw.GOOGLE_CLIENT_SECRET,
      scopes: 'openid email profile',
    });
  }
  oidc(
    'microsoft',
    'Microsoft',
    raw.MICROSOFT_ISSUER ??
      (raw.MICROSOFT_TENANT_ID ? `https://login.microsoftonline.com/${raw.MICROSOFT_TENANT_ID}/v2.0` : undefined),
    raw.MICROSOFT_CLIENT_ID,
    raw.MICROSOFT_CLIENT_SECRET,
  );
  if (raw.GITHUB_CLIENT_ID && raw.GITHUB_CLIENT_SECRET) {
    providers.push({
      id: 'github',
      kind: 'github',
      displayName: 'GitHub',
      webUrl: raw.GITHUB_URL.replace(/\/+$/, ''),
      apiUrl: raw.GITHUB_API_URL.replace(/\/+$/, ''),
      clientId: raw.GITHUB_CLIENT_ID,
      clientSecret: raw.GITHUB_CLIENT_SECRET,
      scopes: 'read:user user:email',
    });
  }
  oidc('keycloak', 'Keycloak', raw.KEYCLOAK_ISSUER, raw.KEYCLOAK_CLIENT_ID, raw.KEYCLOAK_CLIENT_SECRET);
  oidc('oidc', raw.OIDC_DISPLAY_NAME, raw.OIDC_ISSUER, raw.OIDC_CLIENT_ID, raw.OIDC_CLIENT_SECRET, raw.OIDC_SCOPES);
  return providers;
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
