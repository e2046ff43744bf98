import { AuditService } from '@app/audit';
import { SecretBox, type UserPrincipal } from '@app/auth';
import { isAllowedTarget, isPrivateAddress, newId, ValidationProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { TenantTransaction, WebhookDelivery, WebhookEndpoint } from '@app/database';
import {
  DomainEvents,
  eventBodySchema,
  eventCatalogue,
  eventDefinition,
  newSigningSecret,
  sealSecret,
  WEBHOOK_TEST_EVENT,
  WebhookDeliverJob,
} from '@app/events';
import { Outbox } from '@app/queue';
import { permissionDenied, PermissionResolver } from '@app/rbac';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { EntityManager } from 'typeorm';
import type { Page } from '../common/page-query.dto';
import { findShown } from '../common/shown-fields';
import {
  WebhookDeliveryDto,
  WEBHOOK_ENDPOINT_SHOWN,
  WebhookEndpointDto,
  type CreatedWebhookEndpointDto,
  type CreateWebhookEndpointDto,
  type UpdateWebhookEndpointDto,
  type WebhookDeliveryQueryDto,
  type WebhookEventTypeDto,
  type WebhookSecretDto,
} from './dto/webhook.dto';

/** Live endpoints an organization may have. */
const MAX_ENDPOINTS = 20;
const LOOKUP_TIMEOUT_MS = 3_000;

/**
 * An organization's webhook endpoints: registered, changed, rotated and tested by people with
 * webhooks:manage; their deliveries listed and resent. URLs are checked when registered (scheme,
 * credentials, private addresses after DNS resolution) and again, on the resolved address, at
 * every delivery attempt (the worker's SSRF-guarded client).
 */
@Injectable()
export class WebhooksService {
  private readonly box: SecretBox;

  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly audit: AuditService,
    private readonly events: DomainEvents,
    private readonly outbox: Outbox,
    private readonly permissions: PermissionResolver,
  ) {
    this.box = new SecretBox(config.auth.mfaEncryptionKey);
  }

  eventTypes(): WebhookEventTypeDto[] {
    return eventCatalogue().map((definition) => ({
      type: definition.type,
      description: definition.description,
      permission: definition.permission,
      schema: eventBodySchema(definition),
    }));
  }

  async create(actor: UserPrincipal, orgId: string, dto: CreateWebhookEndpointDto): Promise<CreatedWebhookEndpointDto> {
    const url = await this.checkUrl(dto.url);
    const eventTypes = checkTypes(dto.eventTypes ?? []);
    await this.assertMaySubscribe(actor, orgId, eventTypes);
    const secret = newSigningSecret();
    const row = await this.transactions.run(orgId, async (manager) => {
      // The organization row first, so two registrations cannot both pass the count.
      await manager.query('SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [orgId]);
      const live = await manager.count(WebhookEndpoint, { where: { organizationId: orgId } });
      if (live >= MAX_ENDPOINTS) {
        throw new ConflictException(`An organization has at most ${MAX_ENDPOINTS} webhook endpoints.`);
      }
      const id = newId();
      await manager.insert(WebhookEndpoint, {
        id,
        organizationId: orgId,
        createdByUserId: actor.userId,
        url,
        description: dto.description || null,
        eventTypes,
        enabled: dto.enabled ?? true,
        secretSealed: sealSecret(this.box, id, secret),
        previousSecretSealed: null,
        previousSecretExpiresAt: null,
        failingSince: null,
        disabledReason: null,
      });
      await this.audit.change(
        manager,
        'webhook.endpoint.create',
        orgId,
        { actorId: actor.userId },
        ['webhook_endpoint', id],
        {
          origin: new URL(url).origin,
          eventTypes,
        },
      );
      return manager.findOneOrFail(WebhookEndpoint, { select: WEBHOOK_ENDPOINT_SHOWN.select, where: { id } });
    });
    return { ...WebhookEndpointDto.from(row), secret };
  }

  list(orgId: string): Promise<WebhookEndpointDto[]> {
    return this.transactions.run(orgId, async (manager) =>
      (
        await manager.find(WebhookEndpoint, {
          select: WEBHOOK_ENDPOINT_SHOWN.select,
          where: { organizationId: orgId },
          order: { createdAt: 'ASC', id: 'ASC' },
        })
      ).map((row) => WebhookEndpointDto.from(row)),
    );
  }

  async get(orgId: string, id: string): Promise<WebhookEndpointDto> {
    const row = await this.transactions.run(orgId, (manager) =>
      findShown(manager, WebhookEndpoint, WEBHOOK_ENDPOINT_SHOWN, orgId, id, 'No such webhook endpoint.'),
    );
    return WebhookEndpointDto.from(row);
  }

  async update(
    actor: UserPrincipal,
    orgId: string,
    id: string,
    dto: UpdateWebhookEndpointDto,
  ): Promise<WebhookEndpointDto> {
    const url = dto.url === undefined ? undefined : await this.checkUrl(dto.url);
    const eventTypes = dto.eventTypes === undefined ? undefined : checkTypes(dto.eventTypes);
    if (eventTypes !== undefined) await this.assertMaySubscribe(actor, orgId, eventTypes);
    const row = await this.transactions.run(orgId, async (manager) => {
      const current = await this.find(manager, orgId, id, true);
      const changes: Partial<WebhookEndpoint> = {
        ...(url !== undefined ? { url } : {}),
        ...(dto.description !== undefined ? { description: dto.description || null } : {}),
        ...(eventTypes !== undefined ? { eventTypes } : {}),
        ...(dto.enabled !== undefined ? { enabled: dto.enabled } : {}),
        // Enabled again by a person: its failures so far are forgotten.
        ...(dto.enabled === true && !current.enabled ? { failingSince: null, disabledReason: null } : {}),
      };
      if (Object.keys(changes).length > 0) await manager.update(WebhookEndpoint, { id }, changes);
      await this.audit.change(
        manager,
        'webhook.endpoint.update',
        orgId,
        { actorId: actor.userId },
        ['webhook_endpoint', id],
        {
          fields: Object.keys(changes),
        },
      );
      return manager.findOneOrFail(WebhookEndpoint, { select: WEBHOOK_ENDPOINT_SHOWN.select, where: { id } });
    });
    return WebhookEndpointDto.from(row);
  }

  async remove(actor: UserPrincipal, orgId: string, id: string): Promise<void> {
    await this.transactions.run(orgId, async (manager) => {
      const row = await this.find(manager, orgId, id, true);
      await this.audit.change(
        manager,
        'webhook.endpoint.delete',
        orgId,
        { actorId: actor.userId },
        ['webhook_endpoint', id],
        {
          origin: new URL(row.url).origin,
        },
      );
      await manager.delete(WebhookEndpoint, { id });
    });
  }

  /** A new secret, shown once; the old one keeps signing too for WEBHOOK_SECRET_OVERLAP. */
  async rotate(actor: UserPrincipal, orgId: string, id: string): Promise<WebhookSecretDto> {
    const secret = newSigningSecret();
    await this.transactions.run(orgId, async (manager) => {
      const row = await this.find(manager, orgId, id, true);
      const until = new Date(Date.now() + this.config.webhooks.secretOverlapSeconds * 1000);
      await manager.update(
        WebhookEndpoint,
        { id },
        {
          secretSealed: sealSecret(this.box, id, secret),
          previousSecretSealed: row.secretSealed,
          previousSecretExpiresAt: until,
        },
      );
      await this.audit.change(
        manager,
        'webhook.endpoint.rotate',
        orgId,
        { actorId: actor.userId },
        ['webhook_endpoint', id],
        {
          previousValidUntil: until.toISOString(),
        },
      );
    });
    return { secret };
  }

  /** A `webhook.test` event to this endpoint only (enabled or not, whatever it subscribes to). */
  async sendTest(actor: UserPrincipal, orgId: string, id: string): Promise<{ deliveryId: string }> {
    return this.transactions.run(orgId, async (manager) => {
      await this.find(manager, orgId, id);
      const eventId = newId();
      await this.events.publish(
        manager,
        {
          id: eventId,
          type: WEBHOOK_TEST_EVENT.type,
          organizationId: orgId,
          timestamp: new Date().toISOString(),
          data: { id, organizationId: orgId, actor: { type: 'user', id: actor.userId } },
        },
        id,
      );
      await this.audit.change(
        manager,
        'webhook.endpoint.test',
        orgId,
        { actorId: actor.userId },
        ['webhook_endpoint', id],
        {},
      );
      const delivery = await manager.findOneBy(WebhookDelivery, { endpointId: id, eventId });
      if (!delivery) {
        // Its creator no longer manages webhooks here (or left): it delivers nothing, not even a test.
        throw new ConflictException(
          'This endpoint’s creator no longer manages webhooks here, so it delivers nothing: register it again.',
        );
      }
      return { deliveryId: delivery.id };
    });
  }

  async deliveries(orgId: string, id: string, query: WebhookDeliveryQueryDto): Promise<Page<WebhookDeliveryDto>> {
    return this.transactions.run(orgId, async (manager) => {
      await this.find(manager, orgId, id);
      const [rows, total] = await manager.findAndCount(WebhookDelivery, {
        where: { endpointId: id, ...(query.status ? { status: query.status } : {}) },
        order: { createdAt: 'DESC', id: 'DESC' },
        skip: (query.page - 1) * query.pageSize,
        take: query.pageSize,
      });
      return {
        items: rows.map((row) => WebhookDeliveryDto.from(row)),
        total,
        page: query.page,
        pageSize: query.pageSize,
      };
    });
  }

  /** One more attempt of a delivery, now, with the same webhook-id (the receiver drops it if it had it). */
  async resend(actor: UserPrincipal, orgId: string, id: string, deliveryId: string): Promise<WebhookDeliveryDto> {
    const row = await this.transactions.run(orgId, async (manager) => {
      const endpoint = await this.find(manager, orgId, id);
      if (!endpoint.enabled) throw new ConflictException('The endpoint is disabled: enable it first.');
      const rows = await manager.query<Array<{ attempts: number }>>(
        // Settled, or pending but overdue by a quarter of an hour (its job was lost).
        `SELECT attempts FROM webhook_deliveries
          WHERE id = $1 AND endpoint_id = $2
            AND (status <> 'pending' OR next_attempt_at < now() - interval '15 minutes')
          FOR UPDATE`,
        [deliveryId, id],
      );
      const delivery = rows[0];
      if (!delivery) {
        const exists = await manager.existsBy(WebhookDelivery, { id: deliveryId, endpointId: id });
        if (exists) throw new ConflictException('This delivery is still being attempted.');
        throw new NotFoundException('No such delivery.');
      }
      await manager.update(WebhookDelivery, { id: deliveryId }, { status: 'pending', nextAttemptAt: new Date() });
      await this.outbox.add(
        manager,
        WebhookDeliverJob,
        { deliveryId, organizationId: orgId, attempt: delivery.attempts + 1, manual: true },
        { organizationId: orgId },
      );
      await this.audit.change(
        manager,
        'webhook.delivery.resend',
        orgId,
        { actorId: actor.userId },
        ['webhook_delivery', deliveryId],
        {
          endpointId: id,
        },
      );
      return manager.findOneByOrFail(WebhookDelivery, { id: deliveryId });
    });
    return WebhookDeliveryDto.from(row);
  }

  /**
   * An endpoint receives the types it takes (none listed: all of them), so registering one reads
   * them: its creator must hold each type's permission, as they would to see it on the stream.
   * Deliveries check the creator again at every event (DomainEvents.publish).
   */
  private async assertMaySubscribe(actor: UserPrincipal, orgId: string, eventTypes: string[]): Promise<void> {
    const types = eventTypes.length > 0 ? eventTypes : eventCatalogue().map((definition) => definition.type);
    const needed = [
      ...new Set(types.map((type) => eventDefinition(type)?.permission).filter((key) => key !== undefined)),
    ];
    const lacking = await this.permissions.lacking(actor.userId, orgId, needed);
    if (lacking.length > 0) {
      throw permissionDenied(lacking, `Subscribing to these events needs: ${lacking.join(', ')}.`);
    }
  }

  private async find(manager: EntityManager, orgId: string, id: string, lock = false): Promise<WebhookEndpoint> {
    const row = await manager.findOne(WebhookEndpoint, {
      where: { id, organizationId: orgId },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (!row) throw new NotFoundException('No such webhook endpoint.');
    return row;
  }

  /**
   * What a URL must be to be registered: http(s) (http only with WEBHOOK_ALLOW_HTTP), no
   * credentials, no fragment, and a host that is not (and does not resolve to) a private,
   * loopback, link-local, CGNAT, multicast or reserved address unless the operator allow-listed it.
   * The worker checks the resolved address again at every attempt.
   */
  private async checkUrl(raw: string): Promise<string> {
    const refuse = (why: string) => new ValidationProblemException([{ field: 'url', message: `url ${why}` }]);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw refuse('must be an absolute http(s) URL');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.config.webhooks.allowHttp)) {
      throw refuse(this.config.webhooks.allowHttp ? 'must be http or https' : 'must be https');
    }
    if (url.username || url.password) throw refuse('must not carry credentials');
    if (url.hash) throw refuse('must not have a fragment');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const allowed = isAllowedTarget(this.config.webhooks.allowedPrivateTargets, host, port);
    if (!allowed) {
      const addresses = isIP(host) ? [host] : await resolve(host);
      if (!addresses) throw refuse(`host ${host} does not resolve`);
      const inside = addresses.find((address) => isPrivateAddress(address));
      if (inside) throw refuse(`must not point into a private network (${host} is ${inside})`);
    }
    return url.toString();
  }
}

async function resolve(host: string): Promise<string[] | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const found = await Promise.race([
      lookup(host, { all: true, verbatim: true }),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), LOOKUP_TIMEOUT_MS);
      }),
    ]);
    return found.length > 0 ? found.map((entry) => entry.address) : undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

function checkTypes(types: string[]): string[] {
  const unknown = types.filter((type) => !eventDefinition(type) || type === WEBHOOK_TEST_EVENT.type);
  if (unknown.length > 0) {
    throw new ValidationProblemException(
      unknown.map((type) => ({
        field: 'eventTypes',
        message: `${type.slice(0, 100)} is not an event type (see GET /webhooks/event-types)`,
      })),
    );
  }
  return [...types].sort();
}
