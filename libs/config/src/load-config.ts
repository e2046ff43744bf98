import { AppConfig } from './app-config';

/**
 * Reads the process environment once. Overrides (used by tests) win over process.env.
 * This file is the one place in the codebase that touches process.env.
 */
export function loadConfig(overrides: Record<string, string | undefined> = {}): AppConfig {
  return AppConfig.fromEnv({ ...process.env, ...overrides });
}
