import { adoptTracingSettingsFromEnvFile, startTracing } from '@app/telemetry';

// Imported first by main.ts: the instrumentations must patch http, pg and ioredis before they load.
adoptTracingSettingsFromEnvFile();
startTracing('saas-api');
