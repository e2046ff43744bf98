import { html } from './escape-html';
import type { MailMessage } from './mail-message';
import { neutraliseLinks, quoteUserText } from './user-text';

interface Recipient {
  email: string;
  fullName: string | null;
}

/**
 * No name in the greeting: whoever typed the address also typed the name (anyone can sign up, or
 * be invited, with someone else's address), so it is text the recipient never chose. `Recipient`
 * keeps `fullName` so callers need not change.
 */
function greeting(_user: Recipient): string {
  return 'Hello,';
}

function layout(title: string, body: string): string {
  return `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">${html`<h2>${title}</h2>`}${body}</body></html>`;
}

export function verificationMail(appName: string, user: Recipient, link: string, hours: number): MailMessage {
  return {
    to: user.email,
    subject: `Confirm your email for ${appName}`,
    text: `${greeting(user)}\n\nConfirm your email address by opening this link (valid ${hours} hours):\n${link}\n\nIf you did not sign up, ignore this message.`,
    html: layout(
      'Confirm your email',
      html`<p>${greeting(user)}</p>
        <p>Confirm your email address (the link is valid ${hours} hours):</p>
        <p><a href="${link}">Confirm my email</a></p>
        <p>If you did not sign up, ignore this message.</p>`,
    ),
  };
}

export function passwordResetMail(appName: string, user: Recipient, link: string, minutes: number): MailMessage {
  return {
    to: user.email,
    subject: `Reset your ${appName} password`,
    text: `${greeting(user)}\n\nSomeone asked to reset your password. Open this link within ${minutes} minutes to choose a new one:\n${link}\n\nIf it was not you, ignore this message: your password stays as it is.`,
    html: layout(
      'Reset your password',
      html`<p>${greeting(user)}</p>
        <p>Someone asked to reset your password. The link is valid ${minutes} minutes:</p>
        <p><a href="${link}">Choose a new password</a></p>
        <p>If it was not you, ignore this message: your password stays as it is.</p>`,
    ),
  };
}

export function accountExportMail(appName: string, user: Recipient, link: string, hours: number): MailMessage {
  return {
    to: user.email,
    subject: `Your ${appName} data export is ready`,
    text: `${greeting(user)}\n\nThe copy of your data you asked for is ready. The link works once, within ${hours} hours:\n${link}\n\nIf you did not ask for it, someone with access to your account did: change your password.`,
    html: layout(
      'Your data export',
      html`<p>${greeting(user)}</p>
        <p>The copy of your data you asked for is ready. The link works once, within ${hours} hours:</p>
        <p><a href="${link}">Download your data</a></p>
        <p>If you did not ask for it, someone with access to your account did: change your password.</p>`,
    ),
  };
}

export function organizationExportMail(
  appName: string,
  user: Recipient,
  organizationName: string,
  link: string,
  hours: number,
): MailMessage {
  // The name is the organization's own text: quoted, links neutralised, as in invitations.
  const name = quoteUserText(organizationName);
  return {
    to: user.email,
    // The subject names only the platform (the name is the organization's text, as in invitations).
    subject: `Your ${appName} organization export is ready`,
    text: `${greeting(user)}\n\nThe export of the organization ${name} you asked for is ready. The link works once, within ${hours} hours:\n${link}\n\nIt holds the organization's members and their addresses: keep it safe.`,
    html: layout(
      'Organization export',
      html`<p>${greeting(user)}</p>
        <p>
          The export of the organization ${name} you asked for is ready. The link works once, within ${hours} hours:
        </p>
        <p><a href="${link}">Download the export</a></p>
        <p>It holds the organization's members and their addresses: keep it safe.</p>`,
    ),
  };
}

export function lockoutMail(appName: string, user: Recipient, minutes: number): MailMessage {
  return {
    to: user.email,
    subject: `Your ${appName} account was locked`,
    text: `${greeting(user)}\n\nAfter several failed sign-in attempts, your account is locked for ${minutes} minutes.\nIf these attempts were not yours, reset your password once the lock ends.`,
    html: layout(
      'Account locked',
      html`<p>${greeting(user)}</p>
        <p>After several failed sign-in attempts, your account is locked for ${minutes} minutes.</p>
        <p>If these attempts were not yours, reset your password once the lock ends.</p>`,
    ),
  };
}

export interface InvitationMailContext {
  organizationName: string;
  inviterName: string | null;
  link: string;
  days: number;
}

/**
 * The invitation. Its subject names only the platform; the organization's and the inviter's names
 * (chosen by the inviting side) appear in the body quoted and with links neutralised, next to a
 * line saying the platform did not choose them.
 */
export function invitationMail(appName: string, email: string, context: InvitationMailContext): MailMessage {
  const { organizationName, inviterName, link, days } = context;
  const organization = quoteUserText(organizationName);
  const who = inviterName ? `${quoteUserText(inviterName)} invited you` : 'You are invited';
  const caveat = `The organization's name and the inviter's name are chosen by the organization, not by ${appName}.`;
  return {
    to: email,
    subject: `You have an invitation on ${appName}`,
    text: `Hello,\n\n${who} to join the organization ${organization} on ${appName}.\nSign in (or create an account) with this email address, verify it, and accept within ${days} days:\n${link}\n\n${caveat}\nIf you did not expect this invitation, ignore this message.`,
    html: layout(
      'You have an invitation',
      html`<p>Hello,</p>
        <p>${who} to join the organization <strong>${organization}</strong> on ${appName}.</p>
        <p>Sign in (or create an account) with this email address, verify it, and accept within ${days} days:</p>
        <p><a href="${link}">Accept the invitation</a></p>
        <p>${caveat}</p>
        <p>If you did not expect this invitation, ignore this message.</p>`,
    ),
  };
}

export interface NotificationMailContent {
  /** Links in it are neutralised; keep user-chosen text out of it altogether. */
  subject: string;
  /**
   * Plain-text paragraphs; links in them are neutralised (`neutraliseLinks`), and each is escaped
   * in the HTML part. Put user-chosen text in them through `quoteUserText`.
   */
  paragraphs: string[];
  /** An optional button: only http(s) links are used. */
  action?: { label: string; url: string };
}

/**
 * The generic notification for a module's own mails (a report is ready, a member joined): text and
 * HTML from the same paragraphs, every value escaped, an optional call to action. The action is
 * the mail's one link: subject and paragraphs go through `neutraliseLinks`, so a name that made
 * its way into them cannot become another.
 */
export function notificationMail(appName: string, user: Recipient, content: NotificationMailContent): MailMessage {
  const action = content.action && /^https?:\/\//i.test(content.action.url) ? content.action : undefined;
  const subject = neutraliseLinks(content.subject);
  const paragraphs = content.paragraphs.map(neutraliseLinks);
  const text = [
    greeting(user),
    ...paragraphs,
    ...(action ? [`${action.label}: ${action.url}`] : []),
    `— ${appName}`,
  ].join('\n\n');
  const body = [
    html`<p>${greeting(user)}</p>`,
    ...paragraphs.map((paragraph) => html`<p>${paragraph}</p>`),
    ...(action ? [html`<p><a href="${action.url}">${action.label}</a></p>`] : []),
    html`<p style="color:#666">${appName}</p>`,
  ].join('\n');
  return { to: user.email, subject, text, html: layout(subject, body) };
}
