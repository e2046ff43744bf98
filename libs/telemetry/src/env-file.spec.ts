import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adoptTracingSettingsFromEnvFile } from './env-file';

describe('tracing settings in the env file', () => {
  it('reach the environment the OpenTelemetry SDK reads, without overriding it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-otel-'));
    writeFileSync(
      join(dir, '.env'),
      'OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318\nOTEL_SERVICE_NAME=from-file\nLOG_LEVEL=debug\n',
    );
    const env: NodeJS.ProcessEnv = { OTEL_SERVICE_NAME: 'from-environment' };
    adoptTracingSettingsFromEnvFile(env, dir);
    expect(env).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_SERVICE_NAME: 'from-environment',
    });
    const none: NodeJS.ProcessEnv = { ENV_FILE: 'none' };
    adoptTracingSettingsFromEnvFile(none, dir);
    expect(none).toEqual({ ENV_FILE: 'none' });
  });
});
