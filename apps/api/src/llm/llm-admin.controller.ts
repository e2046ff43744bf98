import { CurrentUser, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePlatformAdmin } from '@app/rbac';
import { Body, Controller, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { LlmBudgetDto, LlmUsageDto } from './dto/llm.dto';
import { LlmRequests } from './llm-requests.service';

/**
 * Token budgets: the installation's operators decide what each organization may spend. The
 * parameter is not `:orgId` on purpose: this is no organization route (members get nothing here).
 */
@ApiTags('admin')
@Controller('admin/organizations/:organizationId/llm-budget')
export class LlmAdminController {
  constructor(private readonly requests: LlmRequests) {}

  @Put()
  @RequirePlatformAdmin()
  @ApiOperation({
    summary: 'Set an organization’s monthly token budget',
    description:
      'Platform admins only. `monthlyTokens`: tokens per calendar month (UTC); 0 turns the LLM off for it; ' +
      'null returns it to LLM_MONTHLY_TOKEN_BUDGET. Audited (`llm.budget.update`). Answers its usage report.',
  })
  @ApiOkResponse({ type: LlmUsageDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  setBudget(
    @CurrentUser() admin: UserPrincipal,
    @UuidParam('organizationId') organizationId: string,
    @Body() dto: LlmBudgetDto,
  ): Promise<LlmUsageDto> {
    return this.requests.setBudget(admin, organizationId, dto.monthlyTokens);
  }
}
