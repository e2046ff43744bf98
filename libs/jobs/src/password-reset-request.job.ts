import { defineJob } from '@app/queue';

/** What `POST /auth/forgot-password` hands on: the address typed, and who asked (for the audit row). */
export interface PasswordResetRequestPayload {
  email: string;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/**
 * A password-reset request, looked up and answered away from the request that made it: the request
 * writes this job (one outbox row) whatever the address, so its work, and so its latency, cannot
 * tell an account from no account. The processor finds the account, issues the one-time token and
 * queues the mail.
 */
export const PasswordResetRequestJob = defineJob<PasswordResetRequestPayload>('auth.password-reset.request', {
  attempts: 3,
  backoffMs: 2_000,
});
