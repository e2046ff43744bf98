import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

/**
 * The OpenTelemetry SDK reads its settings (OTEL_*) from process.env, and it starts before the
 * configuration is loaded. So the OTEL_* lines of the env file that loadConfig reads (`.env`, or
 * ENV_FILE; ENV_FILE=none for none) are copied into process.env where the environment does not
 * set them, the same precedence loadConfig applies. A missing file is left for loadConfig to
 * report.
 */
export function adoptTracingSettingsFromEnvFile(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): void {
  const named = env.ENV_FILE?.trim();
  if (named === 'none') return;
  const path = resolve(cwd, named || '.env');
  if (!existsSync(path)) return;
  let values: Record<string, string | undefined>;
  try {
    values = parseEnv(readFileSync(path, 'utf8'));
  } catch {
    return;
  }
  for (const [key, value] of Object.entries(values)) {
    if (key.startsWith('OTEL_') && env[key] === undefined && value !== undefined) env[key] = value;
  }
}
