import { SecurityEvent, TenantTransaction } from '@app/database';
import { RequirePlatformAdmin } from '@app/rbac';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MoreThanOrEqual, type FindOptionsWhere } from 'typeorm';
import { pageOf } from '../common/dto-fields';
import type { Page } from '../common/page-query.dto';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { SecurityEventDto, SecurityEventQueryDto } from './dto/security-event.dto';

/** The security-event stream, installation-wide, for its operators. */
@ApiTags('admin')
@Controller('admin/security-events')
export class SecurityEventsController {
  constructor(private readonly transactions: TenantTransaction) {}

  @Get()
  @RequirePlatformAdmin()
  @ApiOperation({
    summary: 'Refusals worth a look, counted per actor and minute',
    description:
      'Platform admins only. `cross-tenant-probe`: a signed-in caller (or an API key) asked for an organization ' +
      'it does not belong to and was answered 404. `permission-denied`: a 403 that refused access (the matching ' +
      '`access.denied` row is in that organization’s audit log). One row per actor, kind and minute, with a count ' +
      'and the first 20 organizations named; newest first. The same counts feed the `security_events_total` metric.',
  })
  @ApiOkResponse({ type: pageOf(SecurityEventDto) })
  @ApiAuthenticated()
  @ApiProblems(400, 403)
  list(@Query() query: SecurityEventQueryDto): Promise<Page<SecurityEventDto>> {
    const where: FindOptionsWhere<SecurityEvent> = {
      ...(query.kind ? { kind: query.kind } : {}),
      ...(query.actorId ? { actorId: query.actorId } : {}),
      ...(query.since ? { windowStart: MoreThanOrEqual(query.since) } : {}),
    };
    return this.transactions.runAsSystem(async (manager) => {
      const [rows, total] = await manager.findAndCount(SecurityEvent, {
        where,
        order: { windowStart: 'DESC', id: 'DESC' },
        skip: (query.page - 1) * query.pageSize,
        take: query.pageSize,
      });
      return {
        items: rows.map((row) => SecurityEventDto.from(row)),
        total,
        page: query.page,
        pageSize: query.pageSize,
      };
    });
  }
}
