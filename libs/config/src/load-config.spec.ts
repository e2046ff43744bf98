import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './app-config';
import { loadConfig, readEnvFile } from './load-config';

describe('the env file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'env-file-'));
  const file = join(dir, 'app.env');
  writeFileSync(file, '# local settings\nLOG_LEVEL=debug\nAPP_URL="http://localhost:4000"\nQUEUE_PREFIX=from-file\n');
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('reaches the configuration, with the environment winning over it', () => {
    delete process.env.LOG_LEVEL;
    delete process.env.APP_URL;
    process.env.ENV_FILE = file;
    process.env.QUEUE_PREFIX = 'from-environment';
    const config = loadConfig();
    expect(config.logLevel).toBe('debug');
    expect(config.appUrl).toBe('http://localhost:4000');
    expect(config.queuePrefix).toBe('from-environment');
  });

  it('is .env in the working directory by default, and optional', () => {
    writeFileSync(join(dir, '.env'), 'LOG_LEVEL=warn\n');
    expect(readEnvFile({}, dir)).toEqual({ LOG_LEVEL: 'warn' });
    expect(readEnvFile({}, mkdtempSync(join(tmpdir(), 'no-env-')))).toEqual({});
    expect(readEnvFile({ ENV_FILE: 'none' }, dir)).toEqual({});
  });

  it('named by ENV_FILE must exist', () => {
    expect(() => readEnvFile({ ENV_FILE: 'missing.env' }, dir)).toThrow(ConfigError);
  });
});
