export { AppConfig, ConfigError, MIN_JWT_SECRET_LENGTH, redactUrl } from './app-config';
export type {
  AuthConfig,
  DatabaseConfig,
  GraphqlConfig,
  HttpSecurityConfig,
  LlmConfig,
  OAuthConfig,
  OAuthProviderConfig,
  OAuthProviderId,
  PasswordPolicyConfig,
} from './app-config';
export { ConfigModule } from './config.module';
export { configSchema } from './config.schema';
export { loadConfig } from './load-config';
