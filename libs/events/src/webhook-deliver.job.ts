import { defineJob } from '@app/queue';

export interface WebhookDeliverPayload {
  deliveryId: string;
  organizationId: string;
  /** Which attempt this job is: a job whose attempt the delivery has already made does nothing. */
  attempt: number;
  /** A resend someone asked for: one attempt, no retries after it, not counted against the endpoint. */
  manual?: boolean;
}

/**
 * One attempt of one delivery. The delivery's own retry schedule (WEBHOOK_RETRY_SCHEDULE) adds the
 * next attempt as a new job; the queue's retries only cover the worker failing to record an attempt.
 */
export const WebhookDeliverJob = defineJob<WebhookDeliverPayload>('webhooks.deliver', {
  queue: 'webhooks',
  attempts: 3,
  backoffMs: 5_000,
});
