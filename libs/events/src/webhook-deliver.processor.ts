import { AuditService } from '@app/audit';
import { SecretBox } from '@app/auth';
import { OutboundRefused, requestOutbound } from '@app/common';
import { AppConfig } from '@app/config';
import { TenantTransaction } from '@app/database';
import { MailSendJob } from '@app/jobs';
import { JobProcessor, Outbox, type JobHandler } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { EntityManager } from 'typeorm';
import { WEBHOOK_TEST_EVENT } from './event-catalogue';
import { WebhookDeliverJob, type WebhookDeliverPayload } from './webhook-deliver.job';
import { openSecret } from './webhook-secrets';
import { signatureHeader, webhookId } from './webhook-signature';

/** Bytes of a receiver's answer read at most; more is cut off and the attempt counts as failed. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
const KEPT_RESPONSE_CHARS = 1_000;

interface Loaded {
  id: string;
  endpoint_id: string;
  body: string;
  event_type: string;
  url: string;
  enabled: boolean;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | string | null;
}

interface Outcome {
  ok: boolean;
  /** No further attempt (the endpoint is disabled). */
  final?: boolean;
  statusCode: number | null;
  latencyMs: number;
  responseBody: string | null;
  error: string | null;
}

/**
 * Makes one attempt of one delivery: signs the stored body (Standard Webhooks: webhook-id,
 * webhook-timestamp, webhook-signature), POSTs it through the SSRF-guarded client (the address
 * checked after DNS resolution at this moment, no redirects followed, one deadline, the answer
 * bounded), records what happened, and schedules the next attempt from WEBHOOK_RETRY_SCHEDULE with
 * jitter. An endpoint that has failed for WEBHOOK_DISABLE_AFTER is disabled and the organization's
 * owners are mailed. A job for an attempt already made does nothing, so a job run twice sends once.
 */
@Injectable()
@JobProcessor(WebhookDeliverJob)
export class WebhookDeliverProcessor implements JobHandler<WebhookDeliverPayload> {
  private readonly logger = new Logger('Webhooks');
  private readonly box: SecretBox;

  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly outbox: Outbox,
    private readonly audit: AuditService,
  ) {
    this.box = new SecretBox(config.auth.mfaEncryptionKey);
  }

  async handle(payload: WebhookDeliverPayload): Promise<void> {
    const { deliveryId, organizationId, attempt } = payload;
    // Claim the attempt before making it, with a lease: a duplicate of this job (run at once, or a
    // stalled job run again) finds it taken and does nothing; if this process dies before recording,
    // the lease runs out and the queue's retry of the job makes the attempt again.
    const leaseSeconds = this.config.webhooks.timeoutSeconds * 2 + 30;
    const rows = await this.transactions.run(organizationId, (manager) =>
      manager.query<Loaded[]>(
        `WITH claimed AS (
           UPDATE webhook_deliveries SET attempts = $2, next_attempt_at = now() + make_interval(secs => $3), updated_at = now()
            WHERE id = $1 AND status = 'pending'
              AND (attempts = $2 - 1 OR (attempts = $2 AND next_attempt_at < now()))
           RETURNING id, endpoint_id, body, event_type)
         SELECT c.id, c.endpoint_id, c.body, c.event_type, e.url, e.enabled, e.secret_sealed,
                e.previous_secret_sealed, e.previous_secret_expires_at
           FROM claimed c JOIN webhook_endpoints e ON e.id = c.endpoint_id`,
        [deliveryId, attempt, leaseSeconds],
      ),
    );
    const delivery = rows[0];
    // Gone with its endpoint, already delivered, given up, or this attempt claimed by another run.
    if (!delivery) return;
    // A disabled endpoint gets nothing but the test events someone sends before enabling it again.
    const outcome =
      delivery.enabled || delivery.event_type === WEBHOOK_TEST_EVENT.type
        ? await this.send(delivery)
        : {
            ok: false,
            final: true,
            statusCode: null,
            latencyMs: 0,
            responseBody: null,
            error: 'the endpoint is disabled',
          };
    await this.transactions.run(organizationId, (manager) => this.record(manager, payload, delivery, outcome));
  }

  private async send(delivery: Loaded): Promise<Outcome> {
    const secrets = [openSecret(this.box, delivery.endpoint_id, delivery.secret_sealed)];
    const previousUntil = delivery.previous_secret_expires_at ? new Date(delivery.previous_secret_expires_at) : null;
    if (delivery.previous_secret_sealed && previousUntil && previousUntil > new Date()) {
      secrets.push(openSecret(this.box, delivery.endpoint_id, delivery.previous_secret_sealed));
    }
    const id = webhookId(delivery.id);
    const timestamp = Math.floor(Date.now() / 1000);
    const started = performance.now();
    try {
      const response = await requestOutbound(
        delivery.url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': `${this.config.appName.replace(/[^\x20-\x7e]/g, '')} webhooks`,
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signatureHeader(secrets, id, timestamp, delivery.body),
          },
          body: delivery.body,
        },
        {
          httpsOnly: !this.config.webhooks.allowHttp,
          allowedPrivateTargets: this.config.webhooks.allowedPrivateTargets,
          timeoutMs: this.config.webhooks.timeoutSeconds * 1000,
          maxBytes: MAX_RESPONSE_BYTES,
        },
      );
      const ok = response.status >= 200 && response.status < 300;
      return {
        ok,
        statusCode: response.status,
        latencyMs: Math.round(performance.now() - started),
        // PostgreSQL text holds no NUL: a receiver's binary answer must not make the record fail.
        responseBody: response.body.toString('utf8').replace(/\0/g, '').slice(0, KEPT_RESPONSE_CHARS),
        error: ok
          ? null
          : response.status >= 300 && response.status < 400
            ? `answered ${response.status}: redirects are not followed`
            : `answered ${response.status}`,
      };
    } catch (error) {
      const reason =
        error instanceof OutboundRefused
          ? `${error.reason}: ${error.message}`
          : `unreachable: ${error instanceof Error ? error.message : String(error)}`;
      return {
        ok: false,
        statusCode: null,
        latencyMs: Math.round(performance.now() - started),
        responseBody: null,
        error: reason.slice(0, 500),
      };
    }
  }

  private async record(
    manager: EntityManager,
    payload: WebhookDeliverPayload,
    delivery: Loaded,
    outcome: Outcome,
  ): Promise<void> {
    const { deliveryId, organizationId, attempt, manual } = payload;
    const schedule = this.config.webhooks.retryScheduleMs;
    const retryIn = outcome.ok || outcome.final || manual ? undefined : schedule[attempt - 1];
    // Jitter of up to a fifth either way, so endpoints that failed together do not retry together.
    const delayMs = retryIn === undefined ? undefined : Math.round(retryIn * (0.8 + Math.random() * 0.4));
    const status = outcome.ok ? 'succeeded' : delayMs === undefined ? 'failed' : 'pending';
    // The attempt this run claimed (a delivery deleted with its endpoint meanwhile updates nothing).
    const updated = await manager.query<Array<{ id: string }>>(
      `WITH moved AS (
         UPDATE webhook_deliveries
            SET status = $3::varchar, last_status_code = $4, last_latency_ms = $5, last_response_body = $6,
                last_error = $7, delivered_at = CASE WHEN $3::varchar = 'succeeded' THEN now() ELSE delivered_at END,
                next_attempt_at = $8, updated_at = now()
          WHERE id = $1 AND attempts = $2 AND status = 'pending'
         RETURNING id)
       SELECT id FROM moved`,
      [
        deliveryId,
        attempt,
        status,
        outcome.statusCode,
        outcome.latencyMs,
        outcome.responseBody,
        outcome.error,
        delayMs === undefined ? null : new Date(Date.now() + delayMs),
      ],
    );
    if (updated.length === 0) return;
    if (delayMs !== undefined) {
      await this.outbox.add(
        manager,
        WebhookDeliverJob,
        { deliveryId, organizationId, attempt: attempt + 1 },
        { organizationId, delayMs },
      );
    }
    if (outcome.ok) {
      await manager.query(
        'UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL',
        [delivery.endpoint_id],
      );
      return;
    }
    // A disabled endpoint's refusal, or a resend someone asked for, says nothing new about it.
    if (outcome.final || manual) return;
    this.logger.warn(`webhook delivery ${deliveryId} attempt ${attempt} failed: ${outcome.error ?? ''}`);
    await this.noteFailure(manager, organizationId, delivery.endpoint_id);
  }

  /** Marks the endpoint failing; one failing for longer than WEBHOOK_DISABLE_AFTER is disabled, owners mailed. */
  private async noteFailure(manager: EntityManager, organizationId: string, endpointId: string): Promise<void> {
    // Two statements: one statement cannot update the same row twice.
    const marked = await manager.query<Array<{ url: string; failing_since: Date | string; due: boolean }>>(
      `WITH marked AS (
         UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, now())
          WHERE id = $1 AND enabled RETURNING url, failing_since)
       SELECT url, failing_since, failing_since < now() - make_interval(secs => $2) AS due FROM marked`,
      [endpointId, this.config.webhooks.disableAfterSeconds],
    );
    const disabled = marked.filter((row) => row.due);
    if (disabled[0]) {
      const since = new Date(disabled[0].failing_since).toISOString().slice(0, 16).replace('T', ' ');
      await manager.query(
        `UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1`,
        [endpointId, `failing since ${since} UTC`],
      );
    }
    const endpoint = disabled[0];
    if (!endpoint) return;
    await this.audit.change(
      manager,
      'webhook.endpoint.disable',
      organizationId,
      { actorId: null },
      ['webhook_endpoint', endpointId],
      {
        reason: 'failing',
      },
    );
    const owners = await manager.query<Array<{ email: string; name: string }>>(
      `SELECT u.email, o.name FROM role_assignments ra
         JOIN users u ON u.id = ra.user_id AND u.is_active
         JOIN organizations o ON o.id = ra.organization_id
        WHERE ra.organization_id = $1 AND ra.team_id IS NULL AND ra.role_id = '00000000-0000-7000-8000-000000000001'`,
      [organizationId],
    );
    for (const owner of owners) {
      await this.outbox.add(
        manager,
        MailSendJob,
        {
          to: owner.email,
          subject: `A webhook endpoint of ${owner.name} was disabled`,
          text:
            `Deliveries to ${new URL(endpoint.url).origin} have failed for ${Math.round(this.config.webhooks.disableAfterSeconds / 3600)} hours, ` +
            `so the endpoint was disabled. Fix the receiver, then enable the endpoint again in ${owner.name}'s webhook ` +
            'settings; the deliveries it missed can be resent from its delivery log.',
        },
        { organizationId },
      );
    }
  }
}
