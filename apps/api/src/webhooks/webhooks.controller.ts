import { CurrentUser, NoImpersonation, Public, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePermissions } from '@app/rbac';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import {
  CreatedWebhookEndpointDto,
  CreateWebhookEndpointDto,
  SentTestEventDto,
  UpdateWebhookEndpointDto,
  WebhookDeliveryDto,
  WebhookDeliveryPageDto,
  WebhookDeliveryQueryDto,
  WebhookEndpointDto,
  WebhookEventTypeDto,
  WebhookSecretDto,
} from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

/** The event catalogue: what an endpoint can subscribe to. */
@ApiTags('webhooks')
@Controller('webhooks')
export class WebhookCatalogueController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get('event-types')
  @Public()
  @ApiOperation({
    summary: 'The event types',
    description:
      'Public: the catalogue is documentation (also in this document’s `webhooks` section). Each type with its ' +
      'description, the permission that sees it, and the JSON Schema of its body.',
  })
  @ApiOkResponse({ type: [WebhookEventTypeDto] })
  @ApiProblems(429)
  eventTypes(): WebhookEventTypeDto[] {
    return this.webhooks.eventTypes();
  }
}

@ApiTags('webhooks')
@Controller('organizations/:orgId/webhooks/endpoints')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @NoImpersonation()
  @Post()
  @RequirePermissions('webhooks:manage')
  @ApiOperation({
    summary: 'Register a webhook endpoint',
    description:
      'Needs webhooks:manage (people only). The URL must be https (http only with WEBHOOK_ALLOW_HTTP), without ' +
      'credentials, and must not be or resolve to a private, loopback, link-local or metadata address. Returns the ' +
      'signing secret once. At most 20 endpoints. Audited.',
  })
  @ApiCreatedResponse({ type: CreatedWebhookEndpointDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  create(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @Body() dto: CreateWebhookEndpointDto,
  ): Promise<CreatedWebhookEndpointDto> {
    return this.webhooks.create(actor, orgId, dto);
  }

  @Get()
  @RequirePermissions('webhooks:manage')
  @ApiOperation({
    summary: 'The organization’s webhook endpoints',
    description: 'Needs webhooks:manage. Never the secrets.',
  })
  @ApiOkResponse({ type: [WebhookEndpointDto] })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  list(@UuidParam('orgId') orgId: string): Promise<WebhookEndpointDto[]> {
    return this.webhooks.list(orgId);
  }

  @Get(':endpointId')
  @RequirePermissions('webhooks:manage')
  @ApiOperation({ summary: 'A webhook endpoint', description: 'Needs webhooks:manage.' })
  @ApiOkResponse({ type: WebhookEndpointDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  get(@UuidParam('orgId') orgId: string, @UuidParam('endpointId') id: string): Promise<WebhookEndpointDto> {
    return this.webhooks.get(orgId, id);
  }

  @NoImpersonation()
  @Patch(':endpointId')
  @RequirePermissions('webhooks:manage')
  @ApiOperation({
    summary: 'Change a webhook endpoint',
    description: 'Needs webhooks:manage. `enabled: true` brings back an endpoint disabled for failing. Audited.',
  })
  @ApiOkResponse({ type: WebhookEndpointDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  update(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('endpointId') id: string,
    @Body() dto: UpdateWebhookEndpointDto,
  ): Promise<WebhookEndpointDto> {
    return this.webhooks.update(actor, orgId, id, dto);
  }

  @Delete(':endpointId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermissions('webhooks:manage')
  @ApiOperation({
    summary: 'Delete a webhook endpoint',
    description: 'Needs webhooks:manage. Its pending deliveries stop. Audited.',
  })
  @ApiNoContentResponse()
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async remove(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('endpointId') id: string,
  ): Promise<void> {
    await this.webhooks.remove(actor, orgId, id);
  }

  @NoImpersonation()
  @Post(':endpointId/rotate-secret')
  @RequirePermissions('webhooks:manage')
  @ApiOperation({
    summary: 'Rotate the signing secret',
    description:
      'Needs webhooks:manage. Returns the new secret once; the previous one also signs (two signatures in ' +
      'webhook-signature) for WEBHOOK_SECRET_OVERLAP, so the receiver can switch without losing a delivery. Audited.',
  })
  @ApiCreatedResponse({ type: WebhookSecretDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  rotate(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('endpointId') id: string,
  ): Promise<WebhookSecretDto> {
    return this.webhooks.rotate(actor, orgId, id);
  }

  @Post(':endpointId/test')
  @RequirePermissions('webhooks:manage')
  @ApiOperation({
    summary: 'Send a test event',
    description:
      'Needs webhooks:manage. A `webhook.test` event to this endpoint only (even while disabled); follow it in the ' +
      'delivery log. 409 when the endpoint’s creator no longer manages webhooks here (it delivers nothing then).',
  })
  @ApiCreatedResponse({ type: SentTestEventDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  test(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('endpointId') id: string,
  ): Promise<SentTestEventDto> {
    return this.webhooks.sendTest(actor, orgId, id);
  }

  @Get(':endpointId/deliveries')
  @RequirePermissions('webhooks:manage')
  @ApiOperation({
    summary: 'The endpoint’s delivery log',
    description:
      'Needs webhooks:manage. Newest first: status, attempts, the last answer’s status code, latency and first ' +
      '1,000 characters, or why the attempt failed, and the body sent.',
  })
  @ApiOkResponse({ type: WebhookDeliveryPageDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  deliveries(
    @UuidParam('orgId') orgId: string,
    @UuidParam('endpointId') id: string,
    @Query() query: WebhookDeliveryQueryDto,
  ): Promise<WebhookDeliveryPageDto> {
    return this.webhooks.deliveries(orgId, id, query);
  }

  @Post(':endpointId/deliveries/:deliveryId/resend')
  @RequirePermissions('webhooks:manage')
  @ApiOperation({
    summary: 'Resend a delivery',
    description:
      'Needs webhooks:manage. One more attempt now, with the same webhook-id (a receiver that had it drops it). ' +
      '409 while it is still being attempted or the endpoint is disabled. Audited.',
  })
  @ApiCreatedResponse({ type: WebhookDeliveryDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  resend(
    @CurrentUser() actor: UserPrincipal,
    @UuidParam('orgId') orgId: string,
    @UuidParam('endpointId') id: string,
    @UuidParam('deliveryId') deliveryId: string,
  ): Promise<WebhookDeliveryDto> {
    return this.webhooks.resend(actor, orgId, id, deliveryId);
  }
}
