import { Public } from '@app/auth';
import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { LivenessDto } from './health.dto';

/**
 * Liveness (`/health`, outside /api/v1): the process answers. No dependency is consulted,
 * so a slow database never gets a healthy pod restarted.
 */
@ApiTags('health')
@Public()
@Controller('health')
export class LivenessController {
  @Get()
  @ApiOperation({ summary: 'Liveness probe', description: 'Public. 200 while the process serves requests.' })
  @ApiOkResponse({ type: LivenessDto })
  liveness(): LivenessDto {
    return { status: 'ok' };
  }
}
