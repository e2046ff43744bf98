import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { AppConfig, ConfigError } from './app-config';

/**
 * The variables of an env file (`.env` in the working directory unless ENV_FILE names another;
 * ENV_FILE=none reads no file). A missing `.env` is normal; a missing file that ENV_FILE names is
 * a configuration error, not something to start without.
 */
export function readEnvFile(env: Record<string, string | undefined>, cwd = process.cwd()): Record<string, string> {
  const named = env.ENV_FILE?.trim();
  if (named === 'none') return {};
  const path = resolve(cwd, named || '.env');
  if (!existsSync(path)) {
    if (named) throw new ConfigError([`ENV_FILE: ${path} does not exist`]);
    return {};
  }
  return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
}

/**
 * Reads the configuration once: the env file, then the process environment over it (a variable
 * set in the environment wins over the file), then the overrides (used by tests).
 * This file is the one place in the codebase that touches process.env.
 */
export function loadConfig(overrides: Record<string, string | undefined> = {}): AppConfig {
  return AppConfig.fromEnv({ ...readEnvFile(process.env), ...process.env, ...overrides });
}
