import { Public } from '@app/auth';
import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { LivenessDto } from './health.dto';
import { SkipThrottle } from '@nestjs/throttler';

/**
 * Liveness (`/health`, outside /api/v1): the process answers. No dependency is consulted,
 * so a slow database never gets a healthy pod restarted.
 */
@ApiTags('health')
@Public()
// Probes are never rate limited: a busy pod must not fail its own readiness checks.
@SkipThrottle({ default: true })
@Controller('health')
export class LivenessController {
  @Get()
  @ApiOperation({ summary: 'Liveness probe', description: 'Public. 200 while the process serves requests.' })
  @ApiOkResponse({ type: LivenessDto })
  liveness(): LivenessDto {
    return { status: 'ok' };
  }
}
