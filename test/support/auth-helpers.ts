import { TenantTransaction, User } from '@app/database';
import { PlatformAdmins } from '@app/rbac';
import type { TestApp } from './test-app';
import type { SmtpSink } from './smtp-sink';

export const STRONG_PASSWORD = 'Tangerine-Vortex-Quill-8841';

export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

let counter = 0;
export function uniqueEmail(label = 'user'): string {
  counter += 1;
  return `${label}-${Date.now().toString(36)}-${counter}@example.test`;
}

export async function register(
  t: TestApp,
  email: string,
  password = STRONG_PASSWORD,
  fullName?: string,
  headers: Record<string, string> = {},
) {
  const res = await t.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { email, password, fullName },
    headers,
  });
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
  return res.json<{ id: string; email: string }>();
}

export async function login(
  t: TestApp,
  email: string,
  password = STRONG_PASSWORD,
  headers: Record<string, string> = {},
) {
  return t.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, headers });
}

export async function registerAndLogin(
  t: TestApp,
  label = 'user',
  headers: Record<string, string> = {},
): Promise<{ email: string; userId: string; tokens: Tokens }> {
  const email = uniqueEmail(label);
  const user = await register(t, email, STRONG_PASSWORD, undefined, headers);
  const res = await login(t, email, STRONG_PASSWORD, headers);
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return { email, userId: user.id, tokens: res.json<Tokens>() };
}

/** Makes (or unmakes) a user platform admin, as the CLI would, and tells the app's cache. */
export async function setPlatformAdmin(t: TestApp, userId: string, isPlatformAdmin = true): Promise<void> {
  await t.app.get(TenantTransaction).runAsSystem((m) => m.update(User, { id: userId }, { isPlatformAdmin }));
  await t.app.get(PlatformAdmins).invalidate(userId);
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** The token in the link of the latest mail to `email` whose subject matches. */
export async function tokenFromMail(smtp: SmtpSink, email: string, subject: RegExp, after = 0): Promise<string> {
  const mail = await smtp.waitFor(
    (m) => m.to.includes(email) && subject.test(m.subject) && smtp.messages.indexOf(m) >= after,
  );
  const match = /token=([A-Za-z0-9_%-]+)/.exec(mail.text);
  if (!match?.[1]) throw new Error(`no token in mail: ${mail.text}`);
  return decodeURIComponent(match[1]);
}

/** Marks an account's email verified directly (the verification flow has its own tests). */
export async function markEmailVerified(t: TestApp, userId: string): Promise<void> {
  await t.app
    .get(TenantTransaction)
    .runAsSystem((manager) => manager.update(User, { id: userId }, { emailVerifiedAt: new Date() }));
}

/**
 * Brings `account` into the organization the way a person joins one they share nothing with: an
 * invitation from `inviter` (who needs members:manage there), which the person accepts. Marks
 * the person's email verified first (accepting needs it; the verification flow has its own tests).
 */
export async function joinByInvitation(
  t: TestApp,
  inviter: { tokens: Tokens },
  orgId: string,
  account: { email: string; userId: string; tokens: Tokens },
  roleIds?: string[],
): Promise<void> {
  await markEmailVerified(t, account.userId);
  const invited = await t.inject({
    method: 'POST',
    url: `/api/v1/organizations/${orgId}/invitations`,
    headers: bearer(inviter.tokens.access_token),
    payload: { email: account.email, ...(roleIds ? { roleIds } : {}) },
  });
  if (invited.statusCode !== 201) throw new Error(`invitation failed: ${invited.statusCode} ${invited.body}`);
  const { id } = invited.json<{ id: string }>();
  const accepted = await t.inject({
    method: 'POST',
    url: `/api/v1/invitations/${id}/accept`,
    headers: bearer(account.tokens.access_token),
    payload: {},
  });
  if (accepted.statusCode !== 200 && accepted.statusCode !== 201) {
    throw new Error(`accepting failed: ${accepted.statusCode} ${accepted.body}`);
  }
}

/** The sign-in flow cookie (`saas_flow=…`) an answer sets, as a Cookie header value; undefined when none. */
export function flowCookieOf(res: { headers: Record<string, unknown> }): string | undefined {
  const header = ([] as string[]).concat((res.headers['set-cookie'] as string | string[] | undefined) ?? []);
  return header.find((value) => value.startsWith('saas_flow='))?.split(';')[0];
}
