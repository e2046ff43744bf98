import { Public } from '@app/auth';
import { ProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { DatabaseHealth } from '@app/database';
import { RedisHealth } from '@app/queue';
import { Controller, Get, HttpStatus, Logger } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { ProblemDetailsDto } from '../openapi/problem-details.dto';
import { ReadinessDto } from './health.dto';
import { SkipThrottle } from '@nestjs/throttler';

/**
 * Readiness (`/api/v1/health`): the dependencies answer; when one does not, 503 names it
 * (and only it: the reason goes to the log, not to the caller).
 */
@ApiTags('health')
@Public()
// Probes are never rate limited: a busy pod must not fail its own readiness checks.
@SkipThrottle({ default: true })
@Controller('health')
export class HealthController {
  private readonly logger = new Logger('Health');

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: DatabaseHealth,
    private readonly redis: RedisHealth,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Readiness probe',
    description:
      'Public. Checks the database, Redis when REDIS_URL is set, and with READINESS_REQUIRES_CURRENT_SCHEMA=true that no migration is pending. 503 names the failing component.',
  })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ type: ProblemDetailsDto, description: 'A dependency is down.' })
  readiness(): Promise<ReadinessDto> {
    const checks = [() => this.probe('database', () => this.database.ping())];
    if (this.redis.configured) checks.push(() => this.probe('redis', () => this.redis.ping()));
    // READINESS_REQUIRES_CURRENT_SCHEMA: a new release's pods wait for the migrate step.
    if (this.config.readinessRequiresCurrentSchema) {
      checks.push(() => this.probe('schema', () => this.database.requireCurrentSchema()));
    }
    return this.run(checks);
  }

  @Get('db')
  @ApiOperation({ summary: 'Database probe', description: 'Public. 200 when the database answers, 503 otherwise.' })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ type: ProblemDetailsDto, description: 'The database is down.' })
  databaseOnly(): Promise<ReadinessDto> {
    return this.run([() => this.probe('database', () => this.database.ping())]);
  }

  private async run(checks: Array<() => Promise<HealthIndicatorResult>>): Promise<ReadinessDto> {
    try {
      const result = await this.health.check(checks);
      return { status: 'ok', checks: statuses(result.details) };
    } catch (error) {
      const response = (error as { getResponse?: () => unknown }).getResponse?.() as
        { details?: HealthIndicatorResult } | undefined;
      throw new ProblemException({
        status: HttpStatus.SERVICE_UNAVAILABLE,
        slug: 'not-ready',
        title: 'Service Unavailable',
        detail: 'A dependency is not available.',
        extensions: { checks: statuses(response?.details ?? {}) },
      });
    }
  }

  private async probe(key: string, ping: () => Promise<void>): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    try {
      await ping();
      return indicator.up();
    } catch (error) {
      this.logger.warn(`${key} is down: ${error instanceof Error ? error.message : String(error)}`);
      return indicator.down();
    }
  }
}

function statuses(details: HealthIndicatorResult): Record<string, 'up' | 'down'> {
  return Object.fromEntries(
    Object.entries(details).map(([key, value]) => [key, value.status === 'up' ? 'up' : 'down']),
  );
}
